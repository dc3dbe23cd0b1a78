// development_nodemailer.mjs — sends through sesame's SMTP endpoint with
// nodemailer, as a Node app under test would, trusting sesame's self-signed
// certificate (<data_dir>/tls/cert.pem) rather than turning checks off.
//
// MODE=development ([accounts] development = true): mail from SENDER (no
// identity) to RCPT (an outside address) is accepted; prints the SMTP reply.
// MODE=sandbox: the same mail is refused with SES's 554 "Email address is
// not verified".
//
// Run from e2e/node (its node_modules pins nodemailer):
//   node ../scripts/development_nodemailer.mjs
// Environment (set by e2e/development_test.go): SMTP_HOST, SMTP_PORT,
// SMTP_USER, SMTP_PASS, CA_FILE, SENDER, RCPT, TAG, MODE.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(process.cwd() + '/');
const nodemailer = require('nodemailer');

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const MODE = env('MODE');

const transport = nodemailer.createTransport({
  host: env('SMTP_HOST'),
  port: Number(env('SMTP_PORT')),
  secure: false,
  requireTLS: true, // STARTTLS or fail: AUTH never goes in clear
  auth: { user: env('SMTP_USER'), pass: env('SMTP_PASS') },
  tls: { ca: [readFileSync(env('CA_FILE'))] },
});

const mail = {
  from: env('SENDER'),
  to: env('RCPT'),
  subject: `${env('TAG')} nodemailer smtp`,
  text: 'Sent by nodemailer over SMTP from an unverified address.',
};

let info;
try {
  info = await transport.sendMail(mail);
} catch (err) {
  if (MODE === 'development') throw err;
  assert.equal(MODE, 'sandbox');
  assert.equal(err.responseCode, 554, String(err));
  assert.match(err.response, /Email address is not verified/);
  assert.ok(err.response.includes(mail.from), err.response);
  console.error(`refused as expected: ${err.response}`);
  process.exit(0);
}
assert.equal(MODE, 'development', `accepted in the sandbox: ${info.response}`);
assert.deepEqual(info.accepted, [mail.to]);
console.log(info.response);
