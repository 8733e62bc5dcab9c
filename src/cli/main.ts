export async function main(argv: string[]): Promise<number> {
  process.stderr.write(`kube-ha: not implemented yet: ${argv.join(' ')}\n`);
  return 2;
}
