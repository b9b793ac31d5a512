#!/usr/bin/env node
// nodemailer.js PARTS.json LIST.txt HOST PORT - the Node.js peer.
//
// What a Node user writes with nodemailer: a pooled SMTP transport (pool:
// true, 5 connections, connections kept for the whole run instead of being
// recycled every 100 messages) and, per subscriber, the text and HTML
// personalised (name, address, unsubscribe URL with an HMAC token, as nlsend
// does) and handed to sendMail, which builds the MIME message with
// nodemailer's own composer (text + html alternative, its choice of
// transfer encoding, List-Unsubscribe through its `list` option).
// At most WINDOW messages are in flight so that memory stays bounded (queueing
// all of them at once holds every composed message in memory).
//
// Prints "sent N bytes B" (B: message bytes written to the sockets, from
// nodemailer's messageSize); exits 1 if any message was refused.
'use strict';
const fs = require('fs');
const crypto = require('crypto');
const nodemailer = require('nodemailer');

const KEY = 'bench-unsubscribe-secret';
const WINDOW = 10;

function b64u(buf) {
    return buf.toString('base64').replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
}

function loadList(path) {
    const out = [];
    for (const line of fs.readFileSync(path, 'utf8').split('\n')) {
        if (!line.trim() || line.startsWith('#')) continue;
        const m = /^\s*(?:(.*?)\s*<([^>]+)>|(\S+@\S+))\s*$/.exec(line);
        if (m) out.push({ name: m[1] || '', address: m[2] || m[3] });
    }
    return out;
}

function main() {
    const [partsPath, listPath, host, port] = process.argv.slice(2);
    if (!port) {
        console.error('usage: nodemailer.js PARTS.json LIST.txt HOST PORT');
        process.exit(64);
    }
    const parts = JSON.parse(fs.readFileSync(partsPath, 'utf8'));
    const rcpts = loadList(listPath);
    const transport = nodemailer.createTransport({
        host, port: Number(port), secure: false, ignoreTLS: true,
        pool: true, maxConnections: 5, maxMessages: Infinity,
    });
    const lm = /^"?(.*?)"?\s*<([^>]+)>$/.exec(parts.list_id);
    const listId = lm ? { url: lm[2], comment: lm[1] } : parts.list_id;
    let next = 0, done = 0, sent = 0, bytes = 0, failed = 0;

    function mail(r) {
        const mac = crypto.createHmac('sha256', KEY).update(r.address).digest().subarray(0, 16);
        const token = b64u(Buffer.from(r.address)) + '.' + b64u(mac);
        const url = parts.unsubscribe_base + token;
        const fill = (s) => s.split('{{unsubscribe_url}}').join(url)
            .split('{{email}}').join(r.address).split('{{name}}').join(r.name || r.address);
        return {
            from: parts.from,
            to: { name: r.name, address: r.address },
            subject: parts.subject,
            text: fill(parts.text),
            html: fill(parts.html),
            list: {
                id: listId,
                unsubscribe: [url, { url: 'mailto:' + parts.mailto + '?subject=unsubscribe%20' + token }],
            },
        };
    }

    function pump() {
        while (next < rcpts.length && next - done < WINDOW) {
            const r = rcpts[next++];
            transport.sendMail(mail(r)).then((info) => {
                sent++;
                bytes += info.messageSize || 0;
            }, (e) => {
                failed++;
                if (failed === 1) console.error('nodemailer.js: ' + e.message);
            }).finally(() => {
                done++;
                if (done === rcpts.length) {
                    transport.close();
                    console.log(`sent ${sent} bytes ${bytes}`);
                    process.exitCode = failed ? 1 : 0;
                } else {
                    pump();
                }
            });
        }
    }
    if (rcpts.length === 0) {
        console.log('sent 0 bytes 0');
        transport.close();
        return;
    }
    pump();
}

main();
