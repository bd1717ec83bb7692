/**
 * What happens to each thing Slack sends: who may act (deny by default), what it means (a command,
 * text for the agent, a click), and where the answer goes. Bolt-free: the gateway turns Bolt's
 * payloads into these inputs, so this logic is tested directly and through the emulator alike.
 */
import type { DoctorReport } from '../doctor/doctor.js';
import type { Logger } from '../ports.js';
import { REFUSAL_TEXT } from './access.js';
import type { AccessControl, RequestKind } from './access.js';
import { APPROVE_ACTION, DENY_ACTION, approvalIdsIn, deciderText } from './approvals.js';
import type { ApprovalBroker } from './approvals.js';
import { parseCommand, stripLeadingMention } from './command-parser.js';
import type { SlackCommand } from './command-parser.js';
import { AGENT_HINT, CommandRunner, noAgentReply, unknownCommandReply } from './commands.js';
import type { Surface } from './commands.js';
import { section } from './format.js';
import type { SlackReply } from './format.js';
import { RESUBMIT_ACTION, SUGGEST_ACTION, TAIL_ACTION } from './job-report.js';
import type { AgentIo, AgentRequest, SlackPorts } from './jobs-api.js';
import type { SlackSender } from './sender.js';
import type { ThreadMemory } from './threads.js';

export interface MessageInput {
  /** `mention`: an app_mention; `message`: a message event (DM, or a channel thread we follow). */
  kind: 'message' | 'mention';
  userId: string;
  channel: string;
  channelType?: string;
  text: string;
  ts: string;
  threadTs?: string;
}

export interface SlashInput {
  userId: string;
  channel: string;
  text: string;
  responseUrl: string;
}

export interface ActionInput {
  userId: string;
  actionId: string;
  value: string;
  channel?: string;
  /** The message the button is on. */
  messageTs?: string;
  /** That message's thread, if it is a reply. */
  messageThreadTs?: string;
  responseUrl?: string;
}

export interface RouterDeps {
  sender: SlackSender;
  access: AccessControl;
  approvals: ApprovalBroker;
  threads: ThreadMemory;
  ports: SlackPorts;
  logger: Logger;
  doctor?: () => Promise<DoctorReport>;
  /** The bot's own user id (mentions of it in followed threads are app_mention's business). */
  botUserId: () => string | undefined;
}

/** Free-form text longer than this is not handed to the agent. */
const MAX_AGENT_CHARS = 16_000;
const JOB_ID = /^\d{1,12}(?:_\d{1,7})?$/;

interface Where {
  channel: string;
  threadTs?: string;
}

export class SlackRouter {
  private readonly runner: CommandRunner;
  private readonly log: Logger;

  constructor(private readonly deps: RouterDeps) {
    this.runner = new CommandRunner({ ports: deps.ports, approvals: deps.approvals, ...(deps.doctor ? { doctor: deps.doctor } : {}) });
    this.log = deps.logger.child({ component: 'slack-router' });
  }

  /** A DM, an @mention, or a message in a channel thread. */
  async onMessage(m: MessageInput): Promise<void> {
    const isDm = m.channelType === 'im';
    if (m.kind === 'message' && !isDm) {
      // Channel messages matter only in threads we follow; a mention there is app_mention's job.
      if (!m.threadTs || !this.deps.threads.isFollowed(m.channel, m.threadTs)) return;
      const bot = this.deps.botUserId();
      if (bot && m.text.includes(`<@${bot}`)) return;
    }
    const root = m.threadTs ?? (m.kind === 'mention' ? m.ts : undefined);
    const where: Where = { channel: m.channel, ...(root ? { threadTs: root } : {}) };
    const inChannelThread = !isDm && m.kind === 'message';
    const text = m.kind === 'mention' ? stripLeadingMention(m.text) : m.text;
    const bang = /^\s*!/.test(text);

    if (!this.deps.access.isAllowed(m.userId)) {
      // People chatting in a followed thread are not talking to us; a `!command` from them is.
      if (inChannelThread && !bang) return;
      if (this.deps.access.refused(m.userId, m.kind === 'mention' ? 'mention' : 'message', { channel: m.channel })) {
        await this.deps.sender.postEphemeral({ channel: m.channel, user: m.userId, text: REFUSAL_TEXT, ...(where.threadTs ? { thread_ts: where.threadTs } : {}) }).catch((e: unknown) => this.warn('refusal not delivered', e));
      }
      return;
    }
    if (m.kind === 'mention') this.deps.threads.follow(m.channel, root ?? m.ts);

    const surface: Surface = isDm ? 'dm' : 'thread';
    const defaultJobId = root ? this.deps.threads.jobForThread(m.channel, root) : undefined;
    const body = text.replace(/^\s*!/, '');
    const parsed = parseCommand(body, defaultJobId ? { defaultJobId } : {});
    switch (parsed.kind) {
      case 'empty':
        if (m.kind === 'mention') await this.reply(where, { text: `Yes? \`help\` lists what I can do.` });
        return;
      case 'error':
        // In a followed thread, text that is no command is conversation, unless it was a `!command`.
        if (inChannelThread && !bang) return this.freeform(m, where, text);
        await this.reply(where, { text: parsed.message });
        return;
      case 'command':
        if (inChannelThread && !bang) return this.freeform(m, where, text);
        await this.runAndReply(parsed.command, m.userId, surface, where);
        return;
      case 'unknown':
        if (bang) {
          await this.reply(where, unknownCommandReply(parsed.word, surface));
          return;
        }
        return this.freeform(m, where, text);
    }
  }

  /**
   * `/hpc …`: `ack` is what to acknowledge with (a refusal, shown only to the user), `then` the work
   * to run once acked (its answer goes to the command's response_url).
   */
  onSlash(s: SlashInput): { ack: SlackReply | null; then?: () => Promise<void> } {
    if (!this.deps.access.isAllowed(s.userId)) {
      this.deps.access.refused(s.userId, 'slash_command', { channel: s.channel });
      return { ack: { text: REFUSAL_TEXT } };
    }
    const inDm = s.channel.startsWith('D');
    const respond = async (r: SlackReply): Promise<void> => {
      await this.deps.sender.respond(s.responseUrl, { ...r, response_type: inDm ? 'in_channel' : 'ephemeral' });
      // An approval's buttons posted through the response_url: a decision made at the window replaces them there.
      for (const id of approvalIdsIn(r.blocks)) {
        const decided = this.deps.approvals.placed(id, { responseUrl: s.responseUrl });
        if (decided) await this.deps.sender.respond(s.responseUrl, { text: decided, replace_original: true }).catch((e: unknown) => this.warn('approval result not shown', e));
      }
    };
    const parsed = parseCommand(s.text.replace(/^\s*!/, ''));
    const ctx = { userId: s.userId, surface: 'slash' as const };
    const then = async (): Promise<void> => {
      switch (parsed.kind) {
        case 'empty':
          return respond(await this.runner.run({ name: 'help' }, ctx));
        case 'error':
          return respond({ text: parsed.message });
        case 'unknown':
          return respond(unknownCommandReply(parsed.word, 'slash'));
        case 'command': {
          const started = Date.now();
          const reply = await this.runner.run(parsed.command, ctx);
          this.log.info('command', { command: parsed.command.name, userId: s.userId, via: 'slash', ms: Date.now() - started });
          return respond(reply);
        }
      }
    };
    return { ack: null, then: () => then().catch((e: unknown) => this.warn('slash command reply failed', e)) };
  }

  /** A button click (already acked). */
  async onAction(a: ActionInput): Promise<void> {
    const ephemeral = async (text: string): Promise<void> => {
      if (a.responseUrl) await this.deps.sender.respond(a.responseUrl, { text, response_type: 'ephemeral', replace_original: false }).catch((e: unknown) => this.warn('click answer not delivered', e));
    };
    if (!this.deps.access.isAllowed(a.userId)) {
      if (this.deps.access.refused(a.userId, 'button' satisfies RequestKind, { actionId: a.actionId })) await ephemeral(REFUSAL_TEXT);
      return;
    }
    const thread: Where | undefined = a.channel ? { channel: a.channel, ...(a.messageTs ? { threadTs: a.messageThreadTs ?? a.messageTs } : {}) } : undefined;
    switch (a.actionId) {
      case APPROVE_ACTION:
      case DENY_ACTION: {
        const d = await this.deps.approvals.decide(a.value, a.actionId === APPROVE_ACTION, a.userId);
        if (d.kind === 'done') {
          this.log.info('approval decided', { approved: d.approved, by: a.userId });
          if (a.responseUrl) await this.deps.sender.respond(a.responseUrl, { text: d.text, replace_original: true }).catch((e: unknown) => this.warn('approval result not shown', e));
          else if (thread) await this.reply(thread, { text: d.text });
          return;
        }
        this.log.warn('refused an approval click', { outcome: d.kind, userId: a.userId });
        const why = d.kind === 'already'
          ? `This was already ${d.approved === null ? 'expired' : d.approved ? 'approved' : 'denied'}${d.by ? ` by ${deciderText(d.by, d.via)}` : ''}; nothing was done again.`
          : d.kind === 'expired' ? 'This approval expired; nothing was done. Run the command again.' : 'This approval is not known to this relay (it may have restarted); nothing was done.';
        await ephemeral(why);
        return;
      }
      case TAIL_ACTION:
      case RESUBMIT_ACTION:
      case SUGGEST_ACTION: {
        if (!JOB_ID.test(a.value)) {
          this.log.warn('refused a click with a malformed job id', { actionId: a.actionId, userId: a.userId });
          await ephemeral('That button carries no valid job id; nothing was done.');
          return;
        }
        const target = thread ?? (await this.dmWhere(a.userId));
        if (a.actionId === SUGGEST_ACTION) {
          const text = `Suggest the next step after job ${a.value}: read its metrics and logs, then propose one concrete change.`;
          if (!this.deps.ports.agent) {
            await this.reply(target, { text: `Suggestions come from the agent, which is off. ${AGENT_HINT}` });
            return;
          }
          await this.toAgent({ text, userId: a.userId, channelId: target.channel, ...(target.threadTs ? { threadTs: target.threadTs } : {}), jobId: a.value }, target);
          return;
        }
        const cmd: SlackCommand = a.actionId === TAIL_ACTION ? { name: 'tail', jobId: a.value, lines: 20 } : { name: 'resubmit', jobId: a.value, changes: {} };
        await this.runAndReply(cmd, a.userId, 'thread', target);
        return;
      }
      default:
        this.log.warn('refused a click on an unknown action', { actionId: a.actionId.slice(0, 100), userId: a.userId });
        await ephemeral('That button is not one of HPC Relay’s; nothing was done.');
    }
  }

  /** What an agent (or anything else) uses to talk in a conversation. */
  io(where: Where, userId: string): AgentIo {
    return {
      say: async (text) => { await this.reply(where, { text }); },
      requestApproval: async (req) => {
        const a = this.deps.approvals.open({ ...req, requestedBy: userId });
        await this.reply(where, { text: a.text, blocks: a.blocks });
        return a.outcome;
      },
    };
  }

  private async runAndReply(cmd: SlackCommand, userId: string, surface: Surface, where: Where): Promise<void> {
    const started = Date.now();
    const reply = await this.runner.run(cmd, { userId, surface });
    this.log.info('command', { command: cmd.name, userId, ms: Date.now() - started });
    await this.reply(where, reply);
  }

  private async freeform(m: MessageInput, where: Where, text: string): Promise<void> {
    const agent = this.deps.ports.agent;
    const inChannelThread = m.channelType !== 'im' && m.kind === 'message';
    if (!agent) {
      // In a followed channel thread, people talk to each other: stay quiet without an agent.
      if (inChannelThread) return;
      await this.reply(where, noAgentReply(m.channelType === 'im' ? 'dm' : 'thread'));
      return;
    }
    if ([...text].length > MAX_AGENT_CHARS) {
      await this.reply(where, { text: `That message is too long for me (${[...text].length} characters; at most ${MAX_AGENT_CHARS}).` });
      return;
    }
    const jobId = where.threadTs ? this.deps.threads.jobForThread(where.channel, where.threadTs) : undefined;
    await this.toAgent({ text, userId: m.userId, channelId: m.channel, ...(where.threadTs ? { threadTs: where.threadTs } : {}), ...(jobId ? { jobId } : {}) }, where);
  }

  private async toAgent(req: AgentRequest, where: Where): Promise<void> {
    const agent = this.deps.ports.agent;
    if (!agent) return;
    try {
      await agent.handle(req, this.io(where, req.userId));
    } catch (e) {
      this.warn('agent failed', e);
      await this.reply(where, { text: 'The agent failed on that; see the relay log.' });
    }
  }

  private async dmWhere(userId: string): Promise<Where> {
    const r = await this.deps.sender.call('conversations.open', { users: userId });
    const id = (r.channel as { id?: unknown } | undefined)?.id;
    return { channel: typeof id === 'string' ? id : userId };
  }

  private async reply(where: Where, r: SlackReply): Promise<void> {
    const posted = await this.deps.sender.post({ channel: where.channel, text: r.text, ...(r.blocks ? { blocks: r.blocks } : {}), ...(where.threadTs ? { thread_ts: where.threadTs } : {}) })
      .catch((e: unknown) => this.warn('reply not delivered', e));
    // Where an approval's buttons went: a decision made at the window replaces them there (chat.update),
    // at once when it was made while this post was on its way.
    if (!posted) return;
    for (const id of approvalIdsIn(r.blocks)) {
      const decided = this.deps.approvals.placed(id, { channel: posted.channel, ts: posted.ts });
      if (decided) await this.deps.sender.update({ channel: posted.channel, ts: posted.ts, text: decided, blocks: [section(decided)] }).catch((e: unknown) => this.warn('approval result not shown', e));
    }
  }

  private warn(msg: string, e: unknown): void {
    this.log.warn(msg, { err: e instanceof Error ? e.message : String(e) });
  }
}
