/** Exact decimals for the oracles: the source's decimal strings as 1/10,000 units. */
export function units(s: string | number): bigint {
  const str = String(s);
  const neg = str.startsWith('-');
  const [i, f = ''] = str.replace('-', '').split('.');
  const v = BigInt(i) * 10_000n + BigInt((f + '0000').slice(0, 4));
  return neg ? -v : v;
}

/** 1/10,000 units as a decimal string of `digits` (≤ 4) digits, rounded half away from zero. */
export function fixed(u: bigint, digits: number): string {
  const div = 10n ** BigInt(4 - digits);
  const a = u < 0n ? -u : u;
  const q = (2n * a + div) / (2n * div);
  const s = q.toString().padStart(digits + 1, '0');
  const body = digits ? `${s.slice(0, -digits)}.${s.slice(-digits)}` : s;
  return `${u < 0n && q > 0n ? '-' : ''}${body}`;
}
