// Loopback addresses for the lab's "network": 127.N.1.x internal IPs, 127.N.2.x
// ephemeral external IPs, 127.N.3.x static addresses. Persisted so that a
// restarted supervisor never hands out an address a VM or its etcd data still uses.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export type AddressKind = 'internal' | 'external' | 'static';
const SUBNET: Record<AddressKind, number> = { internal: 1, external: 2, static: 3 };

export class AddressPool {
  private used: Set<string>;

  constructor(
    readonly n: number,
    private readonly file: string | null,
  ) {
    this.used = new Set(file && existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as string[]) : []);
  }

  allocate(kind: AddressKind): string {
    for (let x = 1; x < 255; x++) {
      const ip = `127.${this.n}.${SUBNET[kind]}.${x}`;
      if (!this.used.has(ip)) {
        this.used.add(ip);
        this.save();
        return ip;
      }
    }
    throw new Error(`no free ${kind} address left in 127.${this.n}.${SUBNET[kind]}.0/24`);
  }

  release(ip: string): void {
    if (this.used.delete(ip)) this.save();
  }

  private save(): void {
    if (this.file) writeFileSync(this.file, JSON.stringify([...this.used]));
  }
}
