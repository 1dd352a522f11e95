/**
 * Rollout keys of an inventory group (and gates of a playbook), as strict zod schemas:
 *
 *   serial      batch sizes: `1`, `"25%"` or a list `[1, "25%", "100%"]` (last repeats)
 *   max_fail    failed hosts a batch may have before the rollout stops: `N` or `"N%"`
 *               of the batch; default 0
 *   restore     put back what this run replaced when a handler or a gate fails on a
 *               changed host; default true
 *   health      gates run after each host's handlers, before the next batch:
 *     - name: TEXT                 optional display name
 *       http: {url, status (default 200), body (regexp), from: controller|host, timeout}
 *       tcp:  {port, address (default the host's), from: controller|host, timeout}
 *       command: TEXT              run on the host (sh, as the connection user / sudo); exit 0 passes
 *       retries: N                 attempts after the first; default 5
 *       interval: SECONDS          between attempts; default 2
 *       deadline: SECONDS          the gate fails once this has passed; default 60
 * String values are nunjucks templates rendered with the host's vars (`{{ host.address }}`).
 */
import { z } from 'zod';

export type SerialEntry = number | `${number}%`;
export type MaxFail = number | `${number}%`;

const PERCENT = /^(100|[1-9]?[0-9])(\.[0-9]+)?%$/;

const percent = z
  .string()
  .regex(PERCENT, 'expected a share such as "25%"')
  .refine((v) => Number(v.slice(0, -1)) > 0, 'expected a share above 0%') as unknown as z.ZodType<`${number}%`>;

const serialEntry = z.union([z.number().int().positive(), percent], { error: 'expected a host count (1, 2, ...) or a share such as "25%"' });

export const serialSchema = z.union([serialEntry, z.array(serialEntry).min(1, 'expected at least one batch size')], {
  error: 'expected a host count, a share such as "25%", or a list of them',
});

export const maxFailSchema = z.union([z.number().int().nonnegative(), percent], { error: 'expected a number of hosts (0, 1, ...) or a share such as "10%"' });

const seconds = (what: string) => z.number({ error: `expected ${what} in seconds` }).positive(`expected ${what} in seconds (above 0)`);
const from = z.enum(['controller', 'host']).optional();

export const httpGateSchema = z.strictObject({
  url: z.string({ error: 'expected a URL' }).min(1),
  status: z.number({ error: 'expected an HTTP status code' }).int().min(100).max(599).optional(),
  body: z.string({ error: 'expected a regular expression' }).optional(),
  from,
  timeout: seconds('a timeout').optional(),
});

export const tcpGateSchema = z.strictObject({
  port: z.number({ error: 'expected a port number (1-65535)' }).int().min(1).max(65535),
  address: z.string({ error: 'expected an address' }).min(1).optional(),
  from,
  timeout: seconds('a timeout').optional(),
});

export const gateSchema = z
  .strictObject({
    name: z.string({ error: 'expected a gate name' }).optional(),
    http: httpGateSchema.optional(),
    tcp: tcpGateSchema.optional(),
    command: z.string({ error: 'expected a command line' }).min(1).optional(),
    retries: z.number({ error: 'expected a number of retries' }).int().nonnegative().optional(),
    interval: seconds('an interval').optional(),
    deadline: seconds('a deadline').optional(),
  })
  .refine((g) => [g.http, g.tcp, g.command].filter((x) => x !== undefined).length === 1, {
    error: 'a health gate needs exactly one of `http`, `tcp` or `command`',
  });

export const healthSchema = z.array(gateSchema, { error: 'expected a list of health gates' });

export const rolloutGroupShape = {
  serial: serialSchema.optional(),
  max_fail: maxFailSchema.optional(),
  restore: z.boolean({ error: 'expected a boolean (true or false)' }).optional(),
  health: healthSchema.optional(),
};

export type GateDef = z.infer<typeof gateSchema>;
