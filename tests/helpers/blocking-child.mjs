// A child that announces a call and then blocks its thread for good, as a hung engine call would: the
// watchdog's own test (tests/fuzz.test.mjs) checks that it is killed and named.
await new Promise((resolve) => process.send({ type: 'start', label: 'a call that never returns' }, resolve));
for (;;);
