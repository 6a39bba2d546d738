// Compares the demo's photo-mode top-5 with PyTorch's (a reference.json of scripts/make_photo_fixtures.py), allowing
// for the browser resizing the photo with its canvas rather than PyTorch's bilinear filter.
//
// The tolerance τ bounds how far one logit may move between the two resizes; the default is twice the largest
// move reference.json measured between PyTorch's own resizes (`maxLogitShift`: bilinear with and without
// antialias, area, bicubic). With every logit within τ of PyTorch's:
//   - each class the page shows has the page's logit within τ of PyTorch's logit for that class;
//   - a class can only reach the page's top-5 if PyTorch's logit for it is at least the 5th largest − 2τ;
//   - a class of PyTorch's top-5 whose logit exceeds the 6th largest by more than 2τ cannot leave it;
//   - PyTorch's top-1 is the page's top-1 when it leads the 2nd by more than 2τ;
//   - the page lists its five in decreasing logit order.
import { readFileSync } from 'node:fs';

/** reads a reference.json of scripts/make_photo_fixtures.py */
export function readPhotoReference(file) {
  const ref = JSON.parse(readFileSync(file, 'utf8'));
  if (!Array.isArray(ref.logits) || !Array.isArray(ref.top5)) throw new Error(`${file}: not a photo reference (no logits or top5)`);
  return ref;
}

export const defaultTolerance = (ref) => 2 * ref.maxLogitShift;

/**
 * The disagreements between the page's top-5 (`[{ class, logit, ... }]`, best first) and PyTorch's; an empty list
 * when they agree within `tolerance`. Each entry is a sentence naming the class and the numbers.
 */
export function compareTop5(top5, ref, tolerance = defaultTolerance(ref)) {
  const problems = [];
  const logits = ref.logits;
  if (!Array.isArray(top5) || top5.length !== 5) return [`the page shows ${Array.isArray(top5) ? top5.length : 'no'} classes, not 5`];
  const sorted = [...logits].sort((a, b) => b - a);
  const shown = top5.map((t) => t.class);
  const tau = tolerance;
  for (const [k, t] of top5.entries()) {
    if (!Number.isInteger(t.class) || t.class < 0 || t.class >= logits.length) {
      problems.push(`#${k + 1}: class ${t.class} is not a class index below ${logits.length}`);
      continue;
    }
    const torch = logits[t.class];
    if (!(Math.abs(t.logit - torch) <= tau)) problems.push(`#${k + 1} class ${t.class}: the page's logit ${t.logit} differs from PyTorch's ${torch.toFixed(4)} by more than ${tau.toFixed(4)}`);
    if (torch < sorted[4] - 2 * tau) problems.push(`#${k + 1} class ${t.class}: PyTorch's logit ${torch.toFixed(4)} is too far below its 5th largest (${sorted[4].toFixed(4)}) to be in a top-5`);
    if (k > 0 && t.logit > top5[k - 1].logit) problems.push(`#${k + 1} class ${t.class}: its logit ${t.logit} is above #${k}'s (${top5[k - 1].logit}); the list is not in order`);
  }
  for (const c of ref.top5) {
    if (logits[c] > sorted[5] + 2 * tau && !shown.includes(c)) problems.push(`class ${c} (PyTorch's logit ${logits[c].toFixed(4)}, clear of the 6th by more than ${(2 * tau).toFixed(4)}) is missing from the page's top-5`);
  }
  if (sorted[0] - sorted[1] > 2 * tau && shown[0] !== ref.top5[0]) problems.push(`the page's top-1 is class ${shown[0]}, PyTorch's is ${ref.top5[0]} (leading by ${(sorted[0] - sorted[1]).toFixed(4)})`);
  return problems;
}
