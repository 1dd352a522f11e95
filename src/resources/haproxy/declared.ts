/**
 * What the inventory declares about HAProxy's servers, in the shape the runtime diff
 * compares: the static servers (`haproxy_static_backends`, rendered as `server` lines in
 * haproxy.cfg) and the dynamic backends (`haproxy_backends`: a `server-template` per
 * dns-mode backend, consul-template's servers in template mode).
 */
import { z } from 'zod';

/** HAProxy names (backend, server): its `invalid_char` rules, so also safe in sh and awk. */
export const HAPROXY_NAME = /^[A-Za-z0-9._:-]+$/;
const nameSchema = z.string().regex(HAPROXY_NAME, 'use letters, digits and `._:-` (HAProxy names)');

export const STATES = ['ready', 'drain', 'maint'] as const;
export type DeclaredState = (typeof STATES)[number];

export const staticServerSchema = z.strictObject({
  name: nameSchema,
  address: z.string().regex(/^[A-Za-z0-9.:-]+$/, 'an IPv4/IPv6 address or a host name'),
  port: z.number().int().min(1).max(65535),
  /** HAProxy's default weight is 1; 0 takes the server out of the rotation (drain). */
  weight: z.number().int().min(0).max(256).optional(),
  /** ready (default), drain (no new connections), maint (no traffic, checks stopped). */
  state: z.enum(STATES).optional(),
});
export type StaticServerSpec = z.infer<typeof staticServerSchema>;

/** Other keys (balance, health_path...) belong to the template, not to this diff. */
export const staticBackendSchema = z.looseObject({ name: nameSchema, servers: z.array(staticServerSchema).default([]) });
export const dynamicBackendSchema = z.looseObject({
  name: nameSchema,
  mode: z.enum(['dns', 'template']).optional(),
  slots: z.number().int().min(1).optional(),
});

export interface DeclaredServer {
  backend: string;
  name: string;
  address: string;
  port: number;
  weight: number;
  state: DeclaredState;
}

export interface DeclaredTemplate {
  backend: string;
  /** server-template names its servers PREFIX1..PREFIXn. */
  prefix: string;
  slots: number;
}

export interface Declared {
  servers: DeclaredServer[];
  /** Backends holding only declared static servers (extra runtime servers are drift). */
  staticBackends: string[];
  templates: DeclaredTemplate[];
  /** Every backend that must be loaded. */
  backends: string[];
}

export interface DeclaredInput {
  static_backends: z.infer<typeof staticBackendSchema>[];
  dynamic_backends: z.infer<typeof dynamicBackendSchema>[];
  dynamic_prefix: string;
  default_slots: number;
}

export function declared(spec: DeclaredInput): Declared {
  const servers: DeclaredServer[] = spec.static_backends.flatMap((b) =>
    b.servers.map((s) => ({ backend: b.name, name: s.name, address: s.address, port: s.port, weight: s.weight ?? 1, state: s.state ?? 'ready' })),
  );
  const templates = spec.dynamic_backends
    .filter((b) => (b.mode ?? 'dns') === 'dns')
    .map((b) => ({ backend: `${spec.dynamic_prefix}${b.name}`, prefix: b.name, slots: b.slots ?? spec.default_slots }));
  const staticBackends = spec.static_backends.map((b) => b.name);
  return { servers, staticBackends, templates, backends: [...staticBackends, ...spec.dynamic_backends.map((b) => `${spec.dynamic_prefix}${b.name}`)] };
}

/**
 * What haproxy.cfg (the shipped template) says of a declared static server: `weight W`
 * (none rendered when the inventory gives none: HAProxy's default 1) and `disabled` when
 * its state is maint. HAProxy 2.6 has no configuration keyword for drain: a declared drain
 * lives in the running process and the state file only (docs/haproxy-server-state.md).
 */
export function configured(d: DeclaredServer): { weight: number; disabled: boolean } {
  return { weight: d.weight, disabled: d.state === 'maint' };
}

export function isIpLiteral(address: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(address) || address.includes(':');
}
