import type { PromptUser } from '../ports.js';
import type { AgentIo } from '../slack/jobs-api.js';
import type { ApprovalAsk, ApprovalDecision, Approver } from './ports.js';

/** Approvals as Slack buttons in the conversation (the gateway's broker checks who may click). */
export function slackApprover(io: Pick<AgentIo, 'requestApproval'>): Approver {
  return {
    async request(ask: ApprovalAsk): Promise<ApprovalDecision> {
      const o = await io.requestApproval({ summary: ask.summary, detail: `${ask.detail}\n\nAsked by the agent; needs approval because ${ask.reason}.` });
      return o.approved ? { approved: true, by: o.by } : { approved: false, by: o.by, reason: o.reason };
    },
  };
}

/**
 * Approvals on the terminal for `hpc-relay ask`: the action is shown in full and the user answers
 * y/N. Without a terminal (a pipe, a daemon) nothing can be asked, so the answer is no.
 */
export class TerminalApprover implements Approver {
  /** `canAsk`: whether a person is there to answer (the CLI passes "stdin is a TTY"). */
  constructor(private readonly prompt: PromptUser, private readonly canAsk: () => boolean = () => true, private readonly user = 'terminal user') {}

  async request(ask: ApprovalAsk): Promise<ApprovalDecision> {
    if (!this.canAsk()) return { approved: false, by: null, reason: 'unavailable' };
    const answer = await this.prompt.ask({
      kind: 'confirm',
      title: 'Approve agent action',
      message: `The agent wants to: ${ask.summary}\n  ${ask.detail.split('\n').join('\n  ')}\n(It needs approval because ${ask.reason}.)\nAllow it?`,
    });
    return answer === null ? { approved: false, by: null, reason: 'denied' } : { approved: true, by: this.user };
  }
}
