// Package store holds what the stores share so that it is written once: the
// loader of their numbered migration files; the stored (JSON) form of a
// message payload, which every store must write with the same keys so that
// data moves between them as is, and of a built-in notification's data; the
// registry of WaitEvents callers (Waiters); the loop of a prune batch over
// each dialect's statements; and the Observer the stores report their
// commits to.
//
// It imports the domain (internal/group) and the standard library only. The
// stores (internal/store/sqlite, internal/store/postgres) import it; it never
// imports a store, and the stores still never import each other.
package store
