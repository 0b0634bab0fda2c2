// What the SDK tests share: waiting for a condition, and the child processes of one test file —
// switchyard-mock instances on ephemeral ports and the gateway — stopped together at the end.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// Polls `check` (which may be async) until it returns something truthy, which it resolves to.
export async function waitFor(check, what, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

// A provider of the gateway's config: the mock `name` on `port`, in the dialect `type`, with the
// key startMock() gave it; the test's x-mock-* headers reach it.
export const mockProvider = (type, name, port, path = '') => `
  ${name}:
    type: ${type}
    base_url: http://127.0.0.1:${port}${path}
    api_key: key-of-${name}
    forward_headers: ["x-mock-*"]`;

export class Processes {
  constructor(dir) {
    this.dir = dir;
    this.children = [];
  }

  // Starts `bin`; its stderr goes to the test's, prefixed. Returns a function giving its stdout
  // so far.
  start(bin, args, name) {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (d) => { text += d; });
    child.stderr.on('data', (d) => process.stderr.write(`[${name}] ${d}`));
    this.children.push(child);
    return () => text;
  }

  // A switchyard-mock named `name` that takes the key `key-of-<name>`; resolves to its port.
  async startMock(mockBin, name) {
    const portFile = join(this.dir, `${name}.port`);
    this.start(mockBin, ['--listen', '127.0.0.1:0', '--name', name, '--port-file', portFile,
                         '--api-key', `key-of-${name}`], name);
    return waitFor(() => existsSync(portFile) && Number(readFileSync(portFile, 'utf8')),
                   `${name} port`);
  }

  // The gateway on `config`; resolves to the port it listens on.
  async startGateway(gatewayBin, config) {
    const stdout = this.start(gatewayBin, ['--config', config], 'gateway');
    return waitFor(() => {
      const m = stdout().match(/listening on 127\.0\.0\.1:(\d+)/);
      return m && Number(m[1]);
    }, 'gateway port');
  }

  async stopAll() {
    const exits = this.children.map((c) => new Promise((resolve) => c.once('exit', resolve)));
    for (const c of this.children) c.kill('SIGTERM');
    await Promise.all(exits);
  }
}
