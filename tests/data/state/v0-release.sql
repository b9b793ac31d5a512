-- A state database made by nlsend 0.1 (before schema versions: user_version 0):
-- a real send of examples/issue.yaml to smtp-sink, and one suppressed address.
PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE delivery ( issue TEXT NOT NULL, email TEXT NOT NULL, state TEXT NOT NULL CHECK (state = 'pending' OR  state = 'inflight' OR state = 'sent' OR state = 'deferred' OR  state = 'failed'), attempts INTEGER NOT NULL DEFAULT 0, last_code INTEGER, last_reply TEXT, first_at INTEGER NOT NULL, last_at INTEGER NOT NULL, sent_at INTEGER, PRIMARY KEY (issue, email)) WITHOUT ROWID;
INSERT INTO delivery VALUES('harbour-notes-2026-11-20','ingrid@example.com','sent',1,250,'250 2.0.0 Ok',1796309546,1796309546,1796309546);
INSERT INTO delivery VALUES('harbour-notes-2026-11-20','jonas@example.net','sent',1,250,'250 2.0.0 Ok',1796309546,1796309546,1796309546);
INSERT INTO delivery VALUES('harbour-notes-2026-11-20','kai@example.org','sent',1,250,'250 2.0.0 Ok',1796309546,1796309546,1796309546);
INSERT INTO delivery VALUES('harbour-notes-2026-11-20','maren@harbour.example.org','sent',1,250,'250 2.0.0 Ok',1796309546,1796309546,1796309546);
CREATE TABLE suppression (email TEXT PRIMARY KEY, reason TEXT NOT NULL, added_at INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO suppression VALUES('gone@example.org','unsubscribed',1700000000);
CREATE TABLE issue_done (issue TEXT PRIMARY KEY, done_at INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO issue_done VALUES('harbour-notes-2026-11-20',1796309546);
CREATE INDEX delivery_sent_at ON delivery(sent_at) WHERE sent_at IS NOT NULL;
COMMIT;
