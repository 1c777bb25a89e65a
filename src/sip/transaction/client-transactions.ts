import { serializeMessage } from '../message/serializer';
import type { SipRequest, SipResponse } from '../message/sip-message';
import { createResponse } from '../message/create-response';
import type { SipLogger } from '../ports/logger';
import type { Random } from '../ports/random';
import type { Flow, Transport } from '../transport/transport';
import { ClientHost, type ClientHostShared } from './client-host';
import { ClientTable } from './client-table';
import { sendLargeRequest, viaFor, type ClientOutcome, type ClientRunner } from './large-request';
import type { Route } from './next-hop';
import { NonInviteClientTransaction } from './non-invite-client.transaction';
import { failureResponse } from './stack-support';

/**
 * The client side of a stack (RFC 3261 §17.1.2, §17.1.3): sends requests in non-INVITE client transactions,
 * kept in a {@link ClientTable} by the slot their branch names, and matches responses to them.
 */
export class ClientTransactions {
  private readonly table = new ClientTable<NonInviteClientTransaction<SipResponse>>();
  /** What every client transaction's host refers to (see ClientHost). */
  private readonly shared: ClientHostShared;

  constructor(
    private readonly random: Random,
    private readonly transports: readonly Transport[],
    private readonly udpMaxRequestSize: number,
    private readonly log: SipLogger,
    shared: Omit<ClientHostShared, 'clients'>,
  ) {
    this.shared = { ...shared, clients: this.table };
  }

  /** Client transactions awaiting their final response. */
  get size(): number {
    return this.table.size;
  }

  /**
   * Sends `req` on its route, with a top Via of a new branch and Max-Forwards when absent. Only the request's
   * bytes are kept while the transaction runs (not the request): a response for a timeout or a transport
   * error is made from them.
   */
  send(req: SipRequest, { flow, transport }: Route): Promise<SipResponse> {
    if (transport === undefined) return Promise.resolve(createResponse(req, 503, `No ${flow.protocol} transport`));
    const { slot, branch } = this.newBranch();
    let data: Buffer;
    try {
      req.headers.prepend('Via', viaFor(transport, flow.protocol, branch));
      if (!req.headers.has('max-forwards')) req.headers.set('Max-Forwards', '70');
      data = serializeMessage(req);
    } catch (e) {
      this.table.release(slot);
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    const key = `${branch}|${req.method}`;
    if (flow.protocol === 'udp' && data.length > this.udpMaxRequestSize) {
      const tcp = this.transports.find((t) => t.protocol === 'tcp');
      const viaTcp = tcp && { transport: tcp, ...this.newBranch() };
      return sendLargeRequest(req, { slot, key, data, flow, transport }, viaTcp, this.runner, this.log);
    }
    return new Promise((resolve) => {
      this.start(slot, key, data, flow, transport, (result) => {
        resolve(typeof result === 'string' ? failureResponse(data, result) : result);
      });
    });
  }

  /** A response arrived: it goes to the transaction of its top Via's branch and CSeq method (§17.1.3). */
  receive(res: SipResponse): void {
    let key: string;
    let branch: string;
    try {
      branch = res.via[0]?.branch ?? '';
      key = `${branch}|${res.cseq.method}`;
    } catch (e) {
      this.log.debug({ err: String(e) }, 'malformed response dropped');
      return;
    }
    const tx = this.table.get(ClientTable.slotOf(branch), key);
    if (tx === undefined) {
      this.log.debug({ callId: res.headers.get('call-id'), status: res.status }, 'stray response dropped');
      return;
    }
    tx.receiveResponse(res.status, res);
  }

  /** Ends every pending transaction (each resolves with 503). */
  terminateAll(): void {
    for (const tx of this.table.values()) tx.terminate('transport');
  }

  /** A slot claimed for a new transaction, and a fresh branch that names it; `put` or `release` the slot. */
  private newBranch(): { slot: number; branch: string } {
    const slot = this.table.claim();
    return { slot, branch: ClientTable.branchFor(this.random.branch(), slot) };
  }

  /** Starts a non-INVITE client transaction sending `data` over `flow`, in `slot`. */
  private start(
    slot: number,
    key: string,
    data: Buffer,
    flow: Flow,
    transport: Transport,
    onFinal: (result: ClientOutcome) => void,
  ): void {
    const host = new ClientHost(this.shared, slot, key, flow, transport);
    const tx = new NonInviteClientTransaction<SipResponse>(key, data, transport.reliable, host, onFinal);
    this.table.put(slot, tx);
    tx.start();
  }

  /** Runs client transactions to their outcome, for {@link sendLargeRequest}. */
  private readonly runner: ClientRunner = {
    run: (slot, key, data, flow, transport) =>
      new Promise((resolve) => {
        this.start(slot, key, data, flow, transport, resolve);
      }),
    release: (slot) => {
      this.table.release(slot);
    },
  };
}
