// scripts/sign.ts signs like every kind of sender: the published test vectors, header lines for
// each --scheme, curl lines that work when a shell runs them, and --send.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { bodyOf, freshService, message, SECRET } from '../helpers/service.ts';
import { haveTool } from '../helpers/tools.ts';
import { envelope, messagesChange, metaJson, textMessage, WA_SECRET } from '../helpers/whatsapp.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const SIGN = join(ROOT, 'scripts', 'sign.ts');

type Run = { code: number; stdout: string; stderr: string };

/** Runs a command without blocking this process (the service under test runs in it). */
function run(file: string, args: string[], options: { input?: string; env?: Record<string, string> } = {}): Promise<Run> {
  return new Promise((done) => {
    const child = execFile(file, args, { cwd: ROOT, env: { PATH: process.env['PATH'] ?? '', ...options.env }, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      done({ code, stdout: String(stdout), stderr: String(stderr) });
    });
    child.stdin?.end(options.input ?? '');
  });
}
const sign = (args: string[], options: { input?: string; env?: Record<string, string> } = {}): Promise<Run> => run(process.execPath, [SIGN, ...args], options);

test('the Standard Webhooks test vector', async () => {
  const out = await sign(['--scheme', 'standard', '--secret', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', '--id', 'msg_p5jXN8AQM9LWM0D4loKWxJek', '--timestamp', '1614265330'], { input: '{"test": 2432232314}' });
  assert.deepEqual(out, { code: 0, stderr: '', stdout: 'webhook-id: msg_p5jXN8AQM9LWM0D4loKWxJek\nwebhook-timestamp: 1614265330\nwebhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=\n' });
});

test("GitHub's test vector, for --scheme hub and --scheme whatsapp", async () => {
  for (const scheme of ['hub', 'whatsapp']) {
    const out = await sign(['--scheme', scheme, '--secret', "It's a Secret to Everybody"], { input: 'Hello, World!' });
    assert.deepEqual(out, { code: 0, stderr: '', stdout: 'X-Hub-Signature-256: sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17\n' }, scheme);
  }
});

test('without --scheme the bare X-Signature hex, as before; keys from the right variable', async () => {
  assert.deepEqual(await sign([], { input: 'what do ya want for nothing?', env: { WEBHOOK_SECRET: 'Jefe' } }), { code: 0, stderr: '', stdout: '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843\n' });
  assert.deepEqual(await sign(['--scheme', 'x-signature'], { input: 'what do ya want for nothing?', env: { WEBHOOK_SECRET: 'Jefe' } }), { code: 0, stderr: '', stdout: 'X-Signature: 5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843\n' });
  const wa = await sign(['--scheme', 'whatsapp'], { input: 'Hello, World!', env: { WEBHOOK_SECRET: 'not this one', WHATSAPP_APP_SECRET: "It's a Secret to Everybody" } });
  assert.match(wa.stdout, /sha256=757107ea/);
  const missing = await sign(['--scheme', 'whatsapp'], { input: 'x', env: { WEBHOOK_SECRET: 'not this one' } });
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /no secret: set WHATSAPP_APP_SECRET/);
});

test('mistakes exit 2 with a usage line, never echoing the secret', async () => {
  const cases: string[][] = [
    ['--scheme', 'svix'],
    ['--scheme', 'standard', '--secret', 'whsec_tooShort'],
    ['--scheme', 'standard', '--timestamp', '-5', '--secret', 's'],
    ['--scheme', 'hub', '--id', 'x', '--secret', 's'],
    ['--scheme', 'standard', '--id', 'msg.1', '--secret', 's'],
    ['--scheme', 'standard', '--id', 'x'.repeat(257), '--secret', 's'],
    ['--scheme', 'standard', '--id', 'msg_é', '--secret', 's'],
    ['--curl', 'http://x', '--send', 'http://x', '--secret', 's'],
    ['--curl', 'ftp://x', '--secret', 's'],
  ];
  for (const args of cases) {
    const out = await sign(args, { input: '{}' });
    assert.equal(out.code, 2, args.join(' '));
    assert.match(out.stderr, /usage: node scripts\/sign\.ts/);
    assert.ok(!out.stderr.includes('whsec_tooShort'));
  }
});

test('the curl lines it prints work, for every scheme', async (t) => {
  if (!haveTool(t, 'curl', 'curl')) return;
  const svc = await freshService(t, { env: { WEBHOOK_SECRET: SECRET, WHATSAPP_APP_SECRET: WA_SECRET } });
  for (const scheme of ['x-signature', 'standard', 'hub']) {
    const m = message({ text: "it's a \"quoted\" $HOME `text` \\ é" });
    const body = JSON.stringify(m);
    const file = join(svc.dir, `${scheme}.json`);
    writeFileSync(file, body);
    for (const [label, args, input] of [['file', [file], ''], ['stdin', [], body]] as const) {
      const line = await sign(['--scheme', scheme, '--curl', svc.url, ...args], { input, env: { WEBHOOK_SECRET: SECRET } });
      assert.equal(line.code, 0, line.stderr);
      assert.match(line.stdout, /^curl /);
      const sent = await run('sh', ['-c', line.stdout]);
      assert.match(sent.stdout, /^HTTP\/1.1 200 /, `${scheme} (${label}): ${sent.stdout}${sent.stderr}`);
    }
    const stored = await bodyOf(await svc.get(`/messages?q=${encodeURIComponent('"quoted"')}&limit=100`));
    assert.ok(stored.data.some((r: { message_id: string; text: string }) => r.message_id === m['message_id'] && r.text === m['text']), scheme);
  }
  const wa = metaJson(envelope([messagesChange([textMessage('sent by curl, café')])]));
  const line = await sign(['--scheme', 'whatsapp', '--curl', svc.url], { input: wa, env: { WHATSAPP_APP_SECRET: WA_SECRET } });
  assert.match(line.stdout, /\/webhook\/whatsapp/);
  assert.match((await run('sh', ['-c', line.stdout])).stdout, /^HTTP\/1.1 200 /);
  assert.equal((await bodyOf(await svc.get('/messages?q=caf%C3%A9'))).total, 1);
});

test('--send delivers and reports the answer; exit 1 on a refusal', async (t) => {
  const svc = await freshService(t, { env: { WEBHOOK_SECRET: SECRET, WHATSAPP_APP_SECRET: WA_SECRET } });
  for (const scheme of ['x-signature', 'standard', 'hub']) {
    const out = await sign(['--scheme', scheme, '--send', svc.url], { input: JSON.stringify(message()), env: { WEBHOOK_SECRET: SECRET } });
    assert.equal(out.code, 0, out.stdout + out.stderr);
    assert.match(out.stdout, new RegExp(`^POST ${svc.url}/webhook  scheme=${scheme}\\n200 OK  x-request-id=\\S+\\n\\{"status":"ok"\\}\\n$`));
  }
  const wa = await sign(['--scheme', 'whatsapp', '--send', svc.url], { input: metaJson(envelope([messagesChange([textMessage('via --send')])])), env: { WHATSAPP_APP_SECRET: WA_SECRET } });
  assert.equal(wa.code, 0, wa.stdout);
  assert.equal((await bodyOf(await svc.get('/stats'))).total_messages, 4);
  const refused = await sign(['--send', svc.url], { input: JSON.stringify(message()), env: { WEBHOOK_SECRET: 'wrong' } });
  assert.equal(refused.code, 1);
  assert.match(refused.stdout, /401 Unauthorized/);
  assert.ok(!refused.stdout.includes('wrong'));
});
