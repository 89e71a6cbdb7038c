const { connect } = require('@nats-io/transport-node');
const { jetstream, jetstreamManager } = require('@nats-io/jetstream');
(async () => {
  const nc = await connect({ servers: process.argv[2], noAsyncTraces: true });
  const js = jetstream(nc);
  const N = 50000;
  const mode = process.argv[3];
  let t = Date.now();
  const c = await js.consumers.get('T', {});
  let n = 0;
  if (mode === 'fetchmsgs') {
    for (;;) {
      const it = await c.fetch({ max_messages: 500, expires: 2000 });
      let got = 0;
      for await (const m of it) { n++; got++; }
      if (n >= N || got === 0) break;
    }
  } else if (mode === 'fetchbytes') {
    for (;;) {
      const it = await c.fetch({ max_bytes: 4*1024*1024, expires: 2000 });
      let got = 0;
      for await (const m of it) { n++; got++; }
      console.log('batch', got, Date.now()-t);
      if (n >= N || got === 0) break;
    }
  } else {
    const it = await c.consume({ max_bytes: 4 * 1024 * 1024 });
    for await (const m of it) { n++; if (m.info.pending === 0) break; }
  }
  console.log(mode, n, Date.now() - t, 'ms');
  await nc.close();
})();
