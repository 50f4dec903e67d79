// mariadb.mjs — a private, throw-away MariaDB server for the black-box suites that need one
// (several meetoa processes on one database, the database going down and coming back).
//
// Each suite starts its OWN server with startMariadb() (scripts/mariadb.sh start: a fresh
// folder, a free loopback port, a user `meetoa` that may create every database named
// meetoa%), because some suites kill it on purpose. The handle:
//
//   const db = await startMariadb();
//   db.url, db.dir                    the server's URL (database `meetoa`) and folder
//   await db.createDatabase()         a fresh, empty utf8mb4 database: {name, url, sql(query)}
//   await db.sql(query, database?)    runs SQL with the `mariadb` client; rows of strings
//   meetoaDatasource(url)             {url without the password, env: {MEETOA_DB_PASSWORD}}
//   mysqlMigrationSql(version)        the MySQL text of migration steps 1..version, read from
//                                     src/store/migrations.c (to build an older schema)
//   await db.kill()                   SIGKILL (a crash), keeping the data
//   await db.resume()                 starts it again on the same data and port
//   await db.stop()                   shuts it down and removes its folder (safe to call twice)
//
// The password is handed to the `mariadb` client through MYSQL_PWD, never on a command line
// (where `ps` would show it), and never appears in an error message of this file. A server
// still running when the test process exits is stopped by an exit hook.
//
// Only node built-ins are used.

import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const SOURCE_DIR =
  process.env.MEETOA_SOURCE_DIR ?? path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
export const MARIADB_SH = path.join(SOURCE_DIR, 'scripts/mariadb.sh');

/** Folders of servers not stopped yet, stopped if the test process exits without doing so. */
const live = new Set();
process.on('exit', () => {
  for (const dir of live) spawnSync('bash', [MARIADB_SH, 'stop', dir], { stdio: 'ignore', timeout: 30000 });
});

/** Runs a program; resolves {code, stdout, stderr} (never rejects on a non-zero exit). */
function exec(file, args, { env = process.env, input, timeout = 60000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { env, timeout, encoding: 'utf8', maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') reject(new Error(`${path.basename(file)} ${args[0] ?? ''}: ${err.message}`));
      else resolve({ code: err ? err.code : 0, stdout, stderr });
    });
    if (input !== undefined) child.stdin.end(input);
  });
}

/** scripts/mariadb.sh VERB [DIR]; throws with its stderr (which never holds the password). */
async function script(verb, dir) {
  const r = await exec('bash', dir === undefined ? [MARIADB_SH, verb] : [MARIADB_SH, verb, dir]);
  if (r.code !== 0) throw new Error(`scripts/mariadb.sh ${verb} failed (exit ${r.code}):\n${r.stderr}`);
  return r;
}

/** The parts of a mysql:// URL: {user, password, host, port, database}. */
export function parseMysqlUrl(url) {
  const u = new URL(url);
  return {
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    host: u.hostname,
    port: Number(u.port || 3306),
    database: decodeURIComponent(u.pathname.replace(/^\//, '')),
  };
}

/** The same server's URL for another database. */
export function withDatabase(url, database) {
  const u = new URL(url);
  u.pathname = '/' + encodeURIComponent(database);
  return u.toString();
}

/**
 * How to hand the database at `url` to meetoa without writing the password into its config
 * file: {url (the URL without its password), env: {MEETOA_DB_PASSWORD}} (docs/schema.md).
 */
export function meetoaDatasource(url) {
  const u = new URL(url);
  const password = decodeURIComponent(u.password);
  u.password = '';
  return { url: u.toString(), env: { MEETOA_DB_PASSWORD: password } };
}

/**
 * Runs `query` (one or more statements) on `database` of the server at `url` with the
 * `mariadb` client in batch mode (utf8mb4); resolves the rows of every result set, in order,
 * as arrays of strings (NULL as the string 'NULL'). Throws on a client error, naming the
 * query but never the password.
 */
export async function mysqlQuery(url, query, database) {
  const c = parseMysqlUrl(url);
  const args = ['--no-defaults', '--batch', '--skip-column-names', '--raw', '--protocol=TCP', '--default-character-set=utf8mb4'];
  args.push(`--host=${c.host}`, `--port=${c.port}`, `--user=${c.user}`, '--connect-timeout=5');
  args.push(`--database=${database ?? c.database}`);
  const env = { ...process.env, MYSQL_PWD: c.password };
  const r = await exec('mariadb', args, { env, input: query + '\n', timeout: 30000 });
  if (r.code !== 0) throw new Error(`mariadb client: ${query}: exit ${r.code}: ${r.stderr}`);
  return r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split('\t'));
}

/** An SQL string literal for MariaDB (quotes and backslashes escaped). */
export function mysqlText(s) {
  return `'${String(s).replaceAll('\\', '\\\\').replaceAll("'", "''")}'`;
}

/** Starts a private mariadbd (scripts/mariadb.sh start); see the top of this file. */
export async function startMariadb() {
  const r = await script('start');
  const vars = Object.fromEntries(
    r.stdout
      .split('\n')
      .map((l) => /^(MEETOA_TEST_MYSQL_URL|MEETOA_TEST_MYSQL_DIR)=(.*)$/.exec(l))
      .filter(Boolean)
      .map((m) => [m[1], m[2]]),
  );
  const url = vars.MEETOA_TEST_MYSQL_URL;
  const dir = vars.MEETOA_TEST_MYSQL_DIR;
  if (!url || !dir) throw new Error(`scripts/mariadb.sh start printed no URL or folder; stderr:\n${r.stderr}`);
  live.add(dir);

  const db = {
    url,
    dir,
    port: parseMysqlUrl(url).port,
    sql: (query, database) => mysqlQuery(url, query, database),
    /** A fresh database `meetoa_<random>` (utf8mb4, as docs/schema.md asks). */
    async createDatabase(prefix = 'meetoa_') {
      const name = prefix + randomBytes(6).toString('hex');
      await mysqlQuery(url, `CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;`);
      return { name, url: withDatabase(url, name), sql: (query) => mysqlQuery(url, query, name) };
    },
    kill: () => script('kill', dir),
    resume: () => script('resume', dir),
    async stop() {
      if (!live.has(dir)) return;
      live.delete(dir);
      await script('stop', dir);
    },
  };
  return db;
}

// ---------------------------------------------------------------------------------------
// The migrations' own SQL, read from src/store/migrations.c

/** The C string literals of a brace- or semicolon-terminated initializer, joined per element. */
function cStatements(text) {
  const out = [];
  let cur = null;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') {
      let s = '';
      for (i++; text[i] !== '"'; i++) {
        if (text[i] === '\\') {
          i++;
          s += { n: '\n', t: '\t', '\\': '\\', '"': '"', "'": "'" }[text[i]] ?? text[i];
        } else s += text[i];
      }
      cur = (cur ?? '') + s;
    } else if (ch === ',' || ch === ';' || ch === '}') {
      if (cur !== null) out.push(cur);
      cur = null;
      if (ch !== ',') break;
    } else if (text.startsWith('/*', i)) {
      i = text.indexOf('*/', i) + 1;
    }
  }
  return out;
}

/**
 * The MySQL statements that an older meetoa ran to reach schema version `version`, read from
 * the source of the migrations (src/store/migrations.c), so a test can build the database an
 * older binary left behind: {bootstrap: 'CREATE TABLE IF NOT EXISTS schema_version ...',
 * steps: [[...statements of step 1], ...]}.
 */
export async function mysqlMigrationSql(version, sourceDir = SOURCE_DIR) {
  const src = readFileSync(path.join(sourceDir, 'src/store/migrations.c'), 'utf8');
  const after = (marker) => {
    const at = src.indexOf(marker);
    if (at < 0) throw new Error(`src/store/migrations.c: "${marker}" not found`);
    return src.slice(at + marker.length);
  };
  const [bootstrap] = cStatements(after('store_migration_bootstrap_mysql ='));
  const steps = [];
  for (let v = 1; v <= version; v++) {
    const stmts = cStatements(after(`step${v}_mysql[] = {`));
    if (stmts.length === 0) throw new Error(`src/store/migrations.c: step ${v} has no MySQL statement`);
    steps.push(stmts);
  }
  return { bootstrap, steps };
}
