/**
 * Exact figures for JSON: ratios are rounded half away from zero on the exact fraction
 * (integer arithmetic, never a float that is already off by an ulp), then written as the
 * string or number METRICS.md asks for.
 */

/** round(num × scale / den) to `digits` places, as an integer count of 10^-digits. */
export function roundedRatio(num: number, den: number, scale: number, digits: number): bigint {
  if (den === 0) return 0n;
  const n = BigInt(Math.round(num)) * BigInt(scale) * 10n ** BigInt(digits);
  const d = BigInt(Math.round(den));
  const negative = n < 0n !== d < 0n;
  const an = n < 0n ? -n : n;
  const ad = d < 0n ? -d : d;
  const q = (2n * an + ad) / (2n * ad);
  return negative ? -q : q;
}

/** A scaled integer as a fixed-point string: (1842n, 2) → "18.42". */
export function fixed(q: bigint, digits: number): string {
  const negative = q < 0n;
  const a = negative ? -q : q;
  if (digits === 0) return `${negative ? '-' : ''}${a}`;
  const s = a.toString().padStart(digits + 1, '0');
  return `${negative ? '-' : ''}${s.slice(0, -digits)}.${s.slice(-digits)}`;
}

export function ratioString(num: number, den: number, scale: number, digits: number): string {
  return fixed(roundedRatio(num, den, scale, digits), digits);
}

export function ratioNumber(num: number, den: number, scale: number, digits: number): number {
  return Number(fixed(roundedRatio(num, den, scale, digits), digits));
}

/** Seconds as HH:MM:SS; hours do not wrap at 24 ("123:04:05"). */
export function hms(totalSeconds: number): string {
  const s = Math.max(0, Math.round(totalSeconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}
