const { connect } = require('@nats-io/transport-node');
const { jetstream, jetstreamManager } = require('@nats-io/jetstream');
(async () => {
  const nc = await connect({ servers: process.argv[2], noAsyncTraces: true });
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  const N = 50000; try { await jsm.streams.info('T') } catch { await jsm.streams.add({ name: 'T', subjects: ['t.>'], allow_direct: true, storage: 'file' }); const p=new Uint8Array(2500).fill(65); const ps=[]; for (let i=0;i<N;i++){ps.push(js.publish('t.'+i,p)); if(ps.length>=256){await Promise.all(ps); ps.length=0;}} await Promise.all(ps); }
  for (const conc of [64, 256]) {
    let t = Date.now();
    let next = 1;
    let bytes = 0;
    const worker = async () => { while (next <= N) { const s = next++; const m = await jsm.direct.getMessage('T', { seq: s }); bytes += m.data.length; } };
    await Promise.all(Array.from({ length: conc }, worker));
    console.log('direct get noAsyncTraces conc', conc, N, Date.now() - t, 'ms', bytes);
  }
  // raw request with pre-encoded payload, bypass jsm wrapper
  {
    let t = Date.now(); let next = 1; let bytes = 0;
    const worker = async () => { while (next <= N) { const s = next++; const m = await nc.request('$JS.API.DIRECT.GET.T', JSON.stringify({seq: s}), {timeout: 5000}); bytes += m.data.length; } };
    await Promise.all(Array.from({ length: 256 }, worker));
    console.log('raw request direct get', N, Date.now() - t, 'ms', bytes);
  }
  for (const mb of [1, 8]) {
  let t = Date.now();
  const c = await js.consumers.get('T', {});
  let n = 0;
  for (;;) {
    const it = await c.fetch({ max_bytes: mb * 1024 * 1024, expires: 2000 });
    let got = 0;
    for await (const m of it) { n++; got++; if (m.info.pending === 0) break; }
    if (n >= N || got === 0) break;
  }
  console.log('ordered fetch scan', mb, 'MiB', n, Date.now() - t, 'ms');
  }
  await nc.close();
})();
