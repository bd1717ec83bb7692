import { describe, expect, it } from 'vitest';
import { decodeSlackText, parseCommand, parseParams, stripLeadingMention, tokenize } from '../../main/core/slack/command-parser.js';
import type { ParseOutcome, SlackCommand } from '../../main/core/slack/command-parser.js';

const cmd = (o: ParseOutcome): SlackCommand => {
  if (o.kind !== 'command') throw new Error(`expected a command, got ${JSON.stringify(o)}`);
  return o.command;
};
const err = (o: ParseOutcome): string => {
  if (o.kind !== 'error') throw new Error(`expected an error, got ${JSON.stringify(o)}`);
  return o.message;
};

describe('tokenize', () => {
  it('splits like a careful shell without expanding anything', () => {
    expect(tokenize(`a  'b c' "d \\"e\\" f" g\\ h k="x y"z`)).toEqual({ words: ['a', 'b c', 'd "e" f', 'g h', 'k=x yz'] });
    expect(tokenize(`'$(rm -rf ~)' \`id\` ;|&`)).toEqual({ words: ['$(rm -rf ~)', '`id`', ';|&'] });
    expect(tokenize('empty "" \'\' end')).toEqual({ words: ['empty', '', '', 'end'] });
    expect(tokenize('tab\tand\u00a0nbsp')).toEqual({ words: ['tab', 'and', 'nbsp'] });
  });

  it('refuses unclosed quotes', () => {
    expect(tokenize('a "b')).toEqual({ error: 'A double quote is not closed.' });
    expect(tokenize("a 'b")).toEqual({ error: 'A single quote is not closed.' });
  });
});

describe('decodeSlackText', () => {
  it('undoes Slack escapes and link wrapping, keeps user mentions', () => {
    expect(decodeSlackText('a &lt;b&gt; &amp;&amp; c')).toBe('a <b> && c');
    expect(decodeSlackText('data=<https://example.org/x?a=1&amp;b=2>')).toBe('data=https://example.org/x?a=1&b=2');
    expect(decodeSlackText('site=<http://example.org|example.org>')).toBe('site=http://example.org');
    expect(decodeSlackText('mail <mailto:ada@example.org|ada@example.org>')).toBe('mail ada@example.org');
    expect(decodeSlackText('see <#C0123ABC|ml-runs> <!here> <@U0ADA>')).toBe('see #ml-runs @here <@U0ADA>');
  });

  it('leaves a mention for stripLeadingMention', () => {
    expect(stripLeadingMention('<@U0BOT> status')).toBe('status');
    expect(stripLeadingMention('<@U0BOT|relay>:  tail 42')).toBe('tail 42');
    expect(stripLeadingMention('status <@U0BOT>')).toBe('status <@U0BOT>');
  });
});

describe('parseParams', () => {
  it('keys are identifiers, values anything: = inside, unicode, empty', () => {
    expect(parseParams(['lr=0.01', 'expr=a=b==c', 'name=ünïcødé 🚀', 'empty=', 'model.depth=3'])).toEqual({
      params: { lr: '0.01', expr: 'a=b==c', name: 'ünïcødé 🚀', empty: '', 'model.depth': '3' },
    });
  });

  it('refuses bare words, bad keys, duplicates and huge values', () => {
    expect(parseParams(['lr'])).toEqual({ error: 'Expected key=value, got `lr` (quote values with spaces: key="a b").' });
    expect(parseParams(['=3'])).toMatchObject({ error: expect.stringContaining('Expected key=value') });
    expect(parseParams(['$(id)=3'])).toMatchObject({ error: expect.stringContaining('is not a parameter name') });
    expect(parseParams(['a=1', 'a=2'])).toEqual({ error: 'The parameter a is given twice.' });
    expect(parseParams([`a=${'x'.repeat(1001)}`])).toMatchObject({ error: expect.stringContaining('longer than 1000') });
  });
});

describe('parseCommand', () => {
  it('parses every command', () => {
    expect(cmd(parseCommand('status'))).toEqual({ name: 'status' });
    expect(cmd(parseCommand('  HELP '))).toEqual({ name: 'help' });
    expect(cmd(parseCommand('tail 1234'))).toEqual({ name: 'tail', jobId: '1234', lines: 20 });
    expect(cmd(parseCommand('tail 1234_7 50'))).toEqual({ name: 'tail', jobId: '1234_7', lines: 50 });
    expect(cmd(parseCommand('tail 1234 100000'))).toEqual({ name: 'tail', jobId: '1234', lines: 200 });
    expect(cmd(parseCommand('cancel 99'))).toEqual({ name: 'cancel', jobId: '99' });
    expect(cmd(parseCommand('stats 99'))).toEqual({ name: 'stats', jobId: '99' });
    expect(cmd(parseCommand('submit cnn_train epochs=2 "note=two words" lr=1e-3'))).toEqual({ name: 'submit', templateId: 'cnn_train', params: { epochs: '2', note: 'two words', lr: '1e-3' } });
    expect(cmd(parseCommand('submit cnn_train note=“smart quotes”'))).toEqual({ name: 'submit', templateId: 'cnn_train', params: { note: 'smart quotes' } });
    expect(cmd(parseCommand('resubmit 99 mem=24G time=1-00:00:00 partition=gpu_dev seed=3'))).toEqual({
      name: 'resubmit', jobId: '99', changes: { mem: '24G', time: '1-00:00:00', partition: 'gpu_dev', params: { seed: '3' } },
    });
    expect(cmd(parseCommand('resubmit 99'))).toEqual({ name: 'resubmit', jobId: '99', changes: {} });
    expect(cmd(parseCommand('cron'))).toEqual({ name: 'cron', action: 'list' });
    expect(cmd(parseCommand('cron pause digest-1'))).toEqual({ name: 'cron', action: 'pause', id: 'digest-1' });
    expect(cmd(parseCommand('cron RESUME d1'))).toEqual({ name: 'cron', action: 'resume', id: 'd1' });
    expect(cmd(parseCommand('doctor'))).toEqual({ name: 'doctor' });
    expect(cmd(parseCommand('usage'))).toEqual({ name: 'usage' });
  });

  it('in a job thread, a bare tail/stats/cancel/resubmit means that job', () => {
    const ctx = { defaultJobId: '5150' };
    expect(cmd(parseCommand('tail', ctx))).toEqual({ name: 'tail', jobId: '5150', lines: 20 });
    expect(cmd(parseCommand('stats', ctx))).toEqual({ name: 'stats', jobId: '5150' });
    expect(cmd(parseCommand('resubmit mem=32G', ctx))).toEqual({ name: 'resubmit', jobId: '5150', changes: { mem: '32G' } });
    expect(cmd(parseCommand('tail 77 5', ctx))).toEqual({ name: 'tail', jobId: '77', lines: 5 });
  });

  it('answers misuse with one sentence', () => {
    const sentences = [
      err(parseCommand('tail')), err(parseCommand('tail abc')), err(parseCommand('tail 12 -5')), err(parseCommand('cancel 1 2')),
      err(parseCommand('status now')), err(parseCommand('submit')), err(parseCommand('submit ../x')), err(parseCommand('submit t lr')),
      err(parseCommand('resubmit 9 mem=lots')), err(parseCommand('resubmit 9 time=tomorrow')), err(parseCommand('cron nuke x')),
      err(parseCommand('cron pause')), err(parseCommand('status;id')), err(parseCommand('tail$(id)')),
    ];
    for (const s of sentences) {
      expect(s).toMatch(/^[^\n]+[.)]$/);
      expect(s.length).toBeLessThan(200);
    }
    expect(err(parseCommand('tail abc'))).toBe('`abc` is not a SLURM job id (digits, or 1234_5 for an array task); usage: `tail JOB [LINES]`.');
  });

  it('refuses line breaks, control characters and very long text before looking at it', () => {
    expect(err(parseCommand('status\nrm -rf ~'))).toMatch(/one line/);
    expect(err(parseCommand('status\u0000'))).toMatch(/one line/);
    expect(err(parseCommand('status\u2028x'))).toMatch(/one line/);
    expect(err(parseCommand('status ' + 'x'.repeat(100_000)))).toBe('That is too long for a command (100007 characters; commands are at most 2000).');
    expect(parseCommand('status\n')).toEqual({ kind: 'command', command: { name: 'status' } });
  });

  it('text that is not a command is "unknown" (for the agent or the command list)', () => {
    expect(parseCommand('how is my run doing?')).toEqual({ kind: 'unknown', word: 'how' });
    expect(parseCommand('rm -rf ~')).toEqual({ kind: 'unknown', word: 'rm' });
    expect(parseCommand('   ')).toEqual({ kind: 'empty' });
  });
});
