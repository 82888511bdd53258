// The CLI's progress reporter: a bar on a terminal with log lines above it; a line per tenth elsewhere.
import { describe, expect, it } from 'vitest';
import { Progress } from '../src/cli/progress.js';

function sink(): { stream: NodeJS.WriteStream; text: () => string } {
  let out = '';
  return { stream: { write: (s: string) => ((out += s), true) } as unknown as NodeJS.WriteStream, text: () => out };
}

describe('progress', () => {
  it('without a terminal: one line per tenth reached, in order, and log lines as they are', () => {
    const s = sink();
    const p = new Progress(s.stream, false);
    const bar = p.bar('als');
    for (let i = 0; i <= 100; i++) bar(i / 100);
    p.log('iteration 1: loss 2');
    const again = p.bar('als');
    again(0.55);
    again(1);
    expect(s.text()).toBe(['als: 10%', 'als: 20%', 'als: 30%', 'als: 40%', 'als: 50%', 'als: 60%', 'als: 70%', 'als: 80%', 'als: 90%', 'als: 100%', 'iteration 1: loss 2', 'als: 50%', 'als: 100%', ''].join('\n'));
  });

  it('on a terminal: the bar is redrawn in place, and a log line clears it, prints, and draws it again', () => {
    const s = sink();
    const p = new Progress(s.stream, true);
    const bar = p.bar('read');
    bar(0.5);
    p.log('hello');
    bar(1);
    // The log line clears the bar's line first (never glued to it), and the bar comes back below it.
    expect(s.text()).toContain('] 50%\r\x1b[Khello\n\r\x1b[Kread [');
    expect(s.text().endsWith('] 100%\n')).toBe(true);
    expect(s.text()).toContain('\r\x1b[Kread [###############...............] 50%');
    p.log('after');
    expect(s.text().endsWith('after\n')).toBe(true);
  });
});
