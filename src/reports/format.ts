/**
 * Exact figures for JSON: ratios are rounded half away from zero on the exact fraction
 * (integer arithmetic, never a float that is already off by an ulp), then written as the
 * string or number docs/reports.md asks for.
 */

/** n / d rounded half away from zero (d ≠ 0). */
function divideRounded(n: bigint, d: bigint): bigint {
  const negative = n < 0n !== d < 0n;
  const an = n < 0n ? -n : n;
  const ad = d < 0n ? -d : d;
  const q = (2n * an + ad) / (2n * ad);
  return negative ? -q : q;
}

/** round(num × scale / den) to `digits` places, as an integer count of 10^-digits. */
export function roundedRatio(num: number, den: number, scale: number, digits: number): bigint {
  if (den === 0) return 0n;
  return divideRounded(BigInt(Math.round(num)) * BigInt(scale) * 10n ** BigInt(digits), BigInt(Math.round(den)));
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

/** A decimal string ("450.0000", "-3.5", "12") as an integer and its scale. */
export function scaled(s: string): { v: bigint; scale: number } {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(s.trim());
  if (!m) throw new Error(`not a decimal: ${s}`);
  const frac = m[3] ?? '';
  const v = BigInt(m[2] + frac);
  return { v: m[1] ? -v : v, scale: frac.length };
}

/**
 * num × scale / den for exact decimals (credits, money), rounded half away from zero to
 * `digits`, as a number; a zero denominator gives 0.
 */
export function decimalRatioNumber(num: string, den: string, scale: number, digits: number): number {
  const n = scaled(num);
  const d = scaled(den);
  if (d.v === 0n) return 0;
  return Number(fixed(divideRounded(n.v * BigInt(scale) * 10n ** BigInt(digits + d.scale), d.v * 10n ** BigInt(n.scale)), digits));
}

/** An exact decimal string as a JSON number without trailing zeros ("450.0000" → 450). */
export function decimalNumber(s: string | null | undefined): number {
  return s === null || s === undefined ? 0 : Number(s);
}

/** An exact decimal string rounded half away from zero to `digits`: ("12.3450", 2) → "12.35". */
export function roundDecimal(s: string, digits: number): string {
  const { v, scale } = scaled(s);
  if (scale <= digits) return fixed(v * 10n ** BigInt(digits - scale), digits);
  return fixed(divideRounded(v, 10n ** BigInt(scale - digits)), digits);
}

/** Sum of exact decimal strings, as a decimal string with the largest scale among them. */
export function sumDecimals(values: readonly string[]): string {
  const parts = values.map(scaled);
  const scale = Math.max(0, ...parts.map((p) => p.scale));
  const total = parts.reduce((s, p) => s + p.v * 10n ** BigInt(scale - p.scale), 0n);
  return fixed(total, scale);
}

/** The `pagination` object of a paginated list (the platform's campaign list shape). */
export function pagination(total: number, page: number, pageSize: number) {
  const pages = Math.ceil(total / pageSize);
  return { total_items: total, total_pages: pages, page_number: page, has_next: page < pages, has_previous: page > 1 };
}
