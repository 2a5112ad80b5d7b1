import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';

const here = path.dirname(fileURLToPath(import.meta.url));
// From src/delivery under tsx, or dist/src/delivery once built.
const dir = [path.resolve(here, '../../delivery/views'), path.resolve(here, '../../../delivery/views')].find((d) => fs.existsSync(d)) ?? path.resolve(here, '../../delivery/views');

/** The templates of delivered messages (delivery/views), every value HTML-escaped. */
export const views = new Eta({ views: dir, autoEscape: true, cache: true });
