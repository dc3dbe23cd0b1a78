// node-client.mjs — drives sesame with the AWS SDK for JavaScript
// (@aws-sdk/client-sesv2) and nodemailer's SES transport, as a Node user would:
// create an email identity, verify it by following the link sesame mails out,
// send Simple, Raw and Template mail with the SDK and a message with an
// attachment through nodemailer, check SDK errors, and read every message
// back from /_aws/ses.
//
// Run from e2e/node (its node_modules pins the versions): node ../scripts/node-client.mjs
// Environment (set by e2e/api_scripts_test.go): SESAME_ENDPOINT, AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_REGION, SENDER, RCPT, TAG (see aws-cli.sh).
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

// Resolve packages from the working directory (e2e/node), where npm ci put them.
const require = createRequire(process.cwd() + '/');
const {
  SESv2Client, CreateEmailIdentityCommand, GetEmailIdentityCommand, ListEmailIdentitiesCommand, SendEmailCommand,
  CreateEmailTemplateCommand, TestRenderEmailTemplateCommand, GetEmailTemplateCommand,
} = require('@aws-sdk/client-sesv2');
const nodemailer = require('nodemailer');

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const ENDPOINT = env('SESAME_ENDPOINT').replace(/\/$/, '');
const [SENDER, RCPT, TAG] = [env('SENDER'), env('RCPT'), env('TAG')];

const client = new SESv2Client({
  endpoint: ENDPOINT,
  region: env('AWS_REGION'),
  credentials: { accessKeyId: env('AWS_ACCESS_KEY_ID'), secretAccessKey: env('AWS_SECRET_ACCESS_KEY') },
  maxAttempts: 1,
});

const step = (what) => console.error(`== ${what}`);

async function captured(email) {
  const url = `${ENDPOINT}/_aws/ses` + (email ? `?email=${encodeURIComponent(email)}` : '');
  const resp = await fetch(url);
  assert.equal(resp.status, 200, `GET ${url}`);
  return (await resp.json()).messages;
}

const texts = (m) => [m.Body?.text_part, m.Body?.html_part, m.RawData].filter(Boolean);

// waitFor polls fn for up to 10 s: delivery to the capture store is asynchronous.
async function waitFor(fn, what) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const found = await fn();
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function expectCaptured(subject, text) {
  return waitFor(async () => (await captured()).find(
    (m) => m.Subject === subject && texts(m).some((t) => t.includes(text))), `"${subject}" containing "${text}"`);
}

async function expectError(name, command) {
  try {
    await client.send(command);
  } catch (err) {
    assert.equal(err.name, name, `${command.constructor.name}: ${err}`);
    return;
  }
  assert.fail(`${command.constructor.name} succeeded, want ${name}`);
}

step(`create and verify the email identity ${SENDER}`);
const created = await client.send(new CreateEmailIdentityCommand({ EmailIdentity: SENDER }));
assert.equal(created.IdentityType, 'EMAIL_ADDRESS');
assert.equal(created.VerifiedForSendingStatus, false);
const link = await waitFor(async () => {
  for (const m of await captured(SENDER)) {
    for (const t of texts(m)) {
      const found = (t.match(/https?:\/\/[^\s"'<>]+/g) || []).map((l) => l.replaceAll('&amp;', '&'))
        .find((l) => l.startsWith(ENDPOINT));
      if (found) return found;
    }
  }
  return null;
}, `the verification link for ${SENDER}`);
assert.equal((await fetch(link)).status, 200, `GET ${link}`);
const identity = await client.send(new GetEmailIdentityCommand({ EmailIdentity: SENDER }));
assert.equal(identity.VerifiedForSendingStatus, true);
// This SDK lists with POST /v2/email/list-identities (older clients GET /v2/email/identities).
const listed = await client.send(new ListEmailIdentitiesCommand({}));
assert.ok(listed.EmailIdentities.some((i) => i.IdentityName === SENDER && i.VerificationStatus === 'SUCCESS'),
  JSON.stringify(listed.EmailIdentities));

step('SendEmailCommand: Simple, Raw, Template');
const simple = await client.send(new SendEmailCommand({
  FromEmailAddress: SENDER,
  Destination: { ToAddresses: [RCPT] },
  Content: { Simple: { Subject: { Data: `${TAG} simple` }, Body: { Text: { Data: 'hi from node sdk' } } } },
}));
assert.ok(simple.MessageId);
await expectCaptured(`${TAG} simple`, 'hi from node sdk');

const raw = `From: ${SENDER}\r\nTo: ${RCPT}\r\nSubject: ${TAG} raw\r\nMIME-Version: 1.0\r\n` +
  'Content-Type: text/plain; charset=utf-8\r\n\r\nraw from node sdk\r\n';
await client.send(new SendEmailCommand({ Content: { Raw: { Data: new TextEncoder().encode(raw) } } }));
await expectCaptured(`${TAG} raw`, 'raw from node sdk');

await client.send(new CreateEmailTemplateCommand({
  TemplateName: `${TAG}-welcome`,
  TemplateContent: { Subject: `${TAG} template {{name}}`, Text: 'Dear {{name}}, {{#each items}}[{{this}}]{{/each}}' },
}));
const rendered = await client.send(new TestRenderEmailTemplateCommand({
  TemplateName: `${TAG}-welcome`, TemplateData: JSON.stringify({ name: 'Nod', items: ['a', 'b'] }),
}));
assert.match(rendered.RenderedTemplate, /Dear Nod, \[a\]\[b\]/);
await client.send(new SendEmailCommand({
  FromEmailAddress: SENDER,
  Destination: { ToAddresses: [RCPT] },
  Content: { Template: { TemplateName: `${TAG}-welcome`, TemplateData: JSON.stringify({ name: 'Nod', items: ['z'] }) } },
}));
await expectCaptured(`${TAG} template Nod`, 'Dear Nod, [z]');

step('SDK errors');
await expectError('MessageRejected', new SendEmailCommand({
  FromEmailAddress: 'nobody@unverified.invalid',
  Destination: { ToAddresses: [RCPT] },
  Content: { Simple: { Subject: { Data: 'x' }, Body: { Text: { Data: 'x' } } } },
}));
await expectError('NotFoundException', new GetEmailTemplateCommand({ TemplateName: `${TAG}-missing` }));
// TemplateData given as an object (not JSON.stringify'd): this SDK sends it
// as it is; the answer names the member and what it must be, in the API's
// words, not the server's JSON decoder's.
try {
  await client.send(new SendEmailCommand({
    FromEmailAddress: SENDER,
    Destination: { ToAddresses: [RCPT] },
    Content: { Template: { TemplateName: `${TAG}-welcome`, TemplateData: { name: 'Nod' } } },
  }));
  assert.fail('SendEmailCommand with an object as TemplateData succeeded');
} catch (err) {
  assert.equal(err.name, 'BadRequestException', String(err));
  assert.equal(err.message, 'Could not parse the request body: Content.Template.TemplateData must be a string ' +
    '(the data as JSON text), not an object.');
}

step("nodemailer's SES transport (SendEmailCommand with Raw content)");
const transport = nodemailer.createTransport({ SES: { sesClient: client, SendEmailCommand } });
const info = await transport.sendMail({
  from: SENDER,
  to: RCPT,
  subject: `${TAG} nodemailer`,
  text: 'hello from nodemailer',
  html: '<p>hello from <b>nodemailer</b></p>',
  attachments: [{ filename: 'note.txt', content: 'attached by nodemailer' }],
  ses: { EmailTags: [{ Name: 'client', Value: 'nodemailer' }] },
});
assert.match(info.messageId, /@/);
const m = await expectCaptured(`${TAG} nodemailer`, 'hello from nodemailer');
assert.match(m.RawData, /filename="?note\.txt/);
console.error('node-client.mjs: ok');
