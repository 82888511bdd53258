import { parseArgs } from 'node:util';
import { describeModel, type ModelDescription } from '../../files/models.js';
import { usage, type Command } from '../common.js';

function lines(d: ModelDescription, indent: string): string[] {
  const out = [`${indent}kind: ${d.kind}`];
  for (const [k, v] of Object.entries(d.fields)) out.push(`${indent}${k}: ${JSON.stringify(v)}`);
  const m = d.metadata;
  if (m) {
    out.push(`${indent}trained: ${m.trainedAt} with affinity ${m.library}`);
    out.push(`${indent}data: ${Object.entries(m.data).map(([k, v]) => `${v} ${k}`).join(', ')}`);
    if (m.input) out.push(`${indent}input: ${m.input.file} (${m.input.bytes} bytes, sha256 ${m.input.sha256})`);
    if (m.quality) out.push(`${indent}quality: ${Object.entries(m.quality).map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toPrecision(4)}`).join(', ')}`);
    out.push(`${indent}options: ${JSON.stringify(m.options)}`);
  }
  const arrays = Object.entries(d.arrays);
  if (arrays.length) out.push(`${indent}arrays: ${arrays.map(([name, a]) => `${name} ${a.dtype}[${a.length}]`).join(', ')}`);
  for (const [name, part] of Object.entries(d.parts)) out.push(`${indent}part ${name}:`, ...lines(part, indent + '  '));
  return out;
}

export const inspect: Command = {
  help: `usage: affinity inspect FILE [--json]

Verifies a model file (magic, version, checksum) and prints what it holds without building the model:
kind, format version, size, dimensions and options, when and on what it was trained (the input file's
SHA-256, quality figures), its arrays, and the models inside it.`,
  async run(args) {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { help: { type: 'boolean' }, json: { type: 'boolean' } } });
    if (values.help) return console.log(this.help), 0;
    if (positionals.length !== 1) throw usage('give one model file');
    const d = await describeModel(positionals[0]);
    if (values.json) console.log(JSON.stringify(d, null, 2));
    else console.log([`${positionals[0]}: Affinity model file, format ${d.formatVersion}, ${d.bytes} bytes`, ...lines(d, '  ')].join('\n'));
    return 0;
  },
};
