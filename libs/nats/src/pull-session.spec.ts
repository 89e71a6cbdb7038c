import { parseDelivery, PullInterrupted } from './pull-session';

describe('parseDelivery', () => {
  it("reads nats-server 2.9's reply subject", () => {
    expect(parseDelivery('$JS.ACK.BEAM_EVENTS.Rs0999BH.1.42.7.1796055576524614760.3')).toEqual({
      streamSeq: 42,
      deliverySeq: 7,
      storedAt: 1796055576524,
      pending: 3,
    });
  });

  it('reads the newer form with domain, account hash and a trailing token', () => {
    expect(parseDelivery('$JS.ACK._.ACCHASH.BEAM_EVENTS.Rs0999BH.1.42.7.1796055576524614760.0.xyz')).toEqual({
      streamSeq: 42,
      deliverySeq: 7,
      storedAt: 1796055576524,
      pending: 0,
    });
  });

  it('refuses anything else', () => {
    for (const reply of [undefined, '', '_INBOX.abc', '$JS.ACK.S.C.1.2.3']) expect(() => parseDelivery(reply)).toThrow(PullInterrupted);
  });
});
