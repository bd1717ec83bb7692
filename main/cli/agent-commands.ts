import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { createAgent, TerminalApprover, formatUsd, type ThreadPoster, type UsageReport } from '../core/agent/index.js';
import { RelayError } from '../core/errors.js';
import type { Core } from '../core/index.js';
import { printJson, UsageError } from './output.js';
import { TerminalPrompt } from './terminal-prompt.js';

type OpenCore = (opts?: { logToStderr?: boolean }) => Promise<Core>;

/** Anything the agent posts outside its answer (none today from `ask`) goes to stderr, marked. */
const terminalPoster: ThreadPoster = {
  async post(_where, text) {
    process.stderr.write(`[relay] ${text}\n`);
  },
};

function k(n: number): string {
  return n >= 10_000 ? `${Math.round(n / 1000)}k` : n >= 1000 ? `${(n / 1000).toFixed(1)}k` : String(n);
}

export function formatUsage(r: UsageReport): string {
  const lines = [
    `Agent spending, ${r.month}: ${formatUsd(r.monthUsd)} of ${formatUsd(r.budgetUsd)} (${formatUsd(r.remainingUsd)} left)`,
    `Model calls: ${r.calls} (${k(r.inputTokens)} input, ${k(r.outputTokens)} output tokens) in ${r.conversations} conversation${r.conversations === 1 ? '' : 's'}`,
    `Model: ${r.model}, priced as ${r.pricedAs}${r.fallbackPrice ? ' (unknown model: counted at the highest price so the budget holds)' : ''}`,
  ];
  if (r.byConversation.length) {
    lines.push('By conversation:');
    for (const c of r.byConversation.slice(0, 10)) lines.push(`  ${formatUsd(c.usd).padStart(8)}  ${c.calls} call${c.calls === 1 ? '' : 's'}  ${c.conversationId}`);
  }
  return lines.join('\n');
}

export function registerAgentCommands(program: Command, open: OpenCore): void {
  program
    .command('usage')
    .option('--json', 'print the usage report as JSON')
    .description("The agent's model spending this month: cost, tokens, conversations, the budget (llm.monthlyBudgetUsd).")
    .action(async (opts: { json?: boolean }) => {
      const core = await open();
      try {
        const agent = createAgent(core, { db: core.db(), poster: terminalPoster });
        const r = agent.usageReport();
        if (opts.json) printJson(r);
        else process.stdout.write(`${formatUsage(r)}\n`);
      } finally {
        await core.close();
      }
    });

  program
    .command('ask')
    .argument('<request...>', 'what you want, in plain words (quote it)')
    .option('--thread <name>', 'continue a named terminal conversation (default: a new one)')
    .option('--json', 'print {"ok", "text", "submitted", "modelCalls", "conversation"}')
    .description('One request to the agent from the terminal; actions that change the cluster are asked about here (y/N).')
    .action(async (words: string[], opts: { thread?: string; json?: boolean }) => {
      const text = words.join(' ').trim();
      if (!text) throw new UsageError('The request is empty.', 'For example: hpc-relay ask "train the CNN for 2 epochs with lr 0.01".');
      if (opts.thread !== undefined && !/^[A-Za-z0-9._-]{1,64}$/.test(opts.thread)) throw new UsageError('--thread takes a short name (letters, digits, . _ -).');
      const core = await open();
      try {
        const agent = createAgent(core, { db: core.db(), poster: terminalPoster, jobs: core.jobs() });
        const gate = await agent.availability();
        if (!gate.ok) throw new RelayError('AGENT_NOT_ENABLED', gate.message);
        const conversationId = `cli:${opts.thread ?? randomBytes(6).toString('hex')}`;
        const r = await agent.ask(text, { conversationId, where: { channelId: 'cli' }, approver: new TerminalApprover(new TerminalPrompt(), () => process.stdin.isTTY === true) });
        if (opts.json) printJson({ ok: r.ok, text: r.text, submitted: r.submitted, modelCalls: r.modelCalls, conversation: conversationId });
        else process.stdout.write(`${r.text}\n`);
        process.exitCode = r.ok ? 0 : 1;
      } finally {
        await core.close();
      }
    });
}
