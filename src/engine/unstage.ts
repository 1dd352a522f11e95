/**
 * A validator (HAProxy's `-c`, `visudo -cf`, a `validate` command) names the files it
 * read, and those are the hidden staged copies: `/etc/haproxy/.provision-NONCE.haproxy.cfg`
 * and the view `/etc/haproxy/.provision-NONCE.view-conf.d/`. The operator must edit the
 * real ones, so every staged name in the output shown is mapped back to its real path.
 *
 * stagePath and viewPath (apply-script.ts) only prefix the base name, so removing the
 * prefixes gives the real path back exactly.
 */
export function unstage(output: string, nonce: string): string {
  return output.split(`.provision-${nonce}.view-`).join('').split(`.provision-${nonce}.`).join('');
}
