// Package delivery is qun's outbound engine: it reads the bots' durable event
// logs and POSTs what each outbound stream carries (QQ webhooks, Wildfire
// callbacks) to its receiver, keeping every stream's progress in the store.
//
// A door decides what an item looks like on the wire and how it is signed;
// the engine decides when it is sent, retried (capped exponential backoff
// with jitter) and given up on (recorded as dropped once the event retention
// has passed, never silently), and which node sends it: a lease in the store,
// taken over when its holder stops renewing it.
//
// It imports the domain (internal/group) and the standard library; never a
// door or a store.
package delivery
