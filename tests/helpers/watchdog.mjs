// Runs a child script that announces each call over IPC ({ type: 'start', label } before it,
// { type: 'end', label, … } after) and kills it when one call, or the child's start-up, takes longer than
// `limitMs`: a call that hangs (or blocks its thread for minutes) then fails the test that started it,
// naming the call, instead of blocking the suite. Used by tests/fuzz.test.mjs and tests/hostile.test.mjs.
import { fork } from 'node:child_process';

/**
 * @returns {Promise<{ messages: object[], hung: string|null, exitCode: number|null, stderr: string }>}
 *   hung: the label of the call that exceeded the limit (the child was killed), or null.
 */
export function runWatched(script, args, { limitMs = 10_000 } = {}) {
  return new Promise((resolve) => {
    // 'advanced' serialization keeps NaN and Infinity in the reports (JSON would turn them into null).
    const child = fork(script, args, { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'advanced' });
    const messages = [];
    let stderr = '';
    let current = 'the child process starting (loading the engine and the reference model)';
    let hung = null;
    let timer = null;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        hung = current;
        child.kill('SIGKILL');
      }, limitMs);
    };
    arm();
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    child.on('message', (message) => {
      messages.push(message);
      if (message.type === 'start') current = message.label;
      else current = `the child's work after "${message.label ?? message.type}"`;
      arm();
    });
    child.on('exit', (exitCode) => {
      clearTimeout(timer);
      resolve({ messages, hung, exitCode, stderr });
    });
  });
}
