package delivery

import (
	"context"
	"time"

	"github.com/qun-chat/qun/internal/group"
)

// Store keeps the progress, leases, recent attempts and drops of the
// outbound streams. Each method is one transaction. Both stores implement it
// (storetest.RunDelivery is its conformance suite).
type Store interface {
	// SetDeliveryTarget points the stream (botID, kind) at url with intents
	// and returns it. A stream that is new or was off starts after the bot's
	// last event; a stream that was on keeps its progress. url "" turns it
	// off. Its epoch grows and its error and next attempt are cleared.
	SetDeliveryTarget(ctx context.Context, botID string, kind group.DeliveryKind, url string, intents int64, now time.Time) (group.DeliveryStream, error)
	// DeliveryStream returns a stream; a missing one is ENotExist.
	DeliveryStream(ctx context.Context, botID string, kind group.DeliveryKind) (group.DeliveryStream, error)
	// DeliveryStreams lists the streams that are on (URL not empty).
	DeliveryStreams(ctx context.Context) ([]group.DeliveryStream, error)
	// TakeDeliveryLease gives node the stream's lease until until when it is
	// free, expired at now, or node's already. It returns the stream and
	// whether node holds the lease; a missing stream is ENotExist.
	TakeDeliveryLease(ctx context.Context, botID string, kind group.DeliveryKind, node string, now, until time.Time) (group.DeliveryStream, bool, error)
	// RenewDeliveryLeases extends every lease node holds to until, in one
	// statement, and returns those streams: a node renews all its streams
	// at once, however many they are.
	RenewDeliveryLeases(ctx context.Context, node string, until time.Time) ([]group.DeliveryStream, error)
	// ReleaseDeliveryLease gives up node's lease of the stream, if it holds it.
	ReleaseDeliveryLease(ctx context.Context, botID string, kind group.DeliveryKind, node string) error
	// RecordDelivery stores p, appends the attempts and drops (adding the
	// dropped events to the stream's count) and keeps only the newest keep
	// attempts and keep drops of the stream, all only if p.Node holds the
	// stream's lease and p.Epoch is its epoch. It reports whether it did.
	RecordDelivery(ctx context.Context, p group.DeliveryProgress, attempts []group.DeliveryAttempt, drops []group.DeliveryDrop, keep int) (bool, error)
	// DeliveryAttempts returns the newest attempts of the stream, at most limit, newest first.
	DeliveryAttempts(ctx context.Context, botID string, kind group.DeliveryKind, limit int) ([]group.DeliveryAttempt, error)
	// DeliveryDrops returns the newest drops of the stream, at most limit, newest first.
	DeliveryDrops(ctx context.Context, botID string, kind group.DeliveryKind, limit int) ([]group.DeliveryDrop, error)
	// Redeliver moves a stream that is on back so that its next event is
	// fromSeq (at least 1); its epoch grows and its error is cleared. A
	// missing or off stream is ENotExist.
	Redeliver(ctx context.Context, botID string, kind group.DeliveryKind, fromSeq int64, now time.Time) (group.DeliveryStream, error)
}
