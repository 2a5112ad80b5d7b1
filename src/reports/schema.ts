/** JSON Schema builders for the response schemas declarations give OpenAPI. */
export type Schema = Record<string, unknown>;

export const int = (extra: Schema = {}): Schema => ({ type: 'integer', ...extra });
export const str = (extra: Schema = {}): Schema => ({ type: 'string', ...extra });
export const num: Schema = { type: 'number' };
export const bool: Schema = { type: 'boolean' };
export const arr = (items: Schema): Schema => ({ type: 'array', items });
export const obj = (properties: Record<string, Schema>): Schema => ({ type: 'object', properties, required: Object.keys(properties) });
export const nullable = (s: Schema): Schema => ({ ...s, type: [s.type as string, 'null'] });
/** An exact decimal as text with `digits` digits ("12.5000"). */
export const decimal = (digits: number): Schema => str({ pattern: `^-?\\d+\\.\\d{${digits}}$` });
export const hms: Schema = str({ pattern: '^\\d{2,}:\\d{2}:\\d{2}$', description: 'HH:MM:SS, hours do not wrap' });
