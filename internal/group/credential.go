package group

import (
	"context"
	"sync"
	"time"
)

// Intent is one QQ gateway intent: a bit a bot may be allowed to ask for.
type Intent struct {
	Bit  uint   // the intent is 1<<Bit
	Name string // the QQ documentation's name (botgo's for the Discord-era bits)
}

// Intents lists every intent bit the gateway knows, in bit order: the QQ
// platform's (0, 1, 9, 10, 12, 18, 19, 23–30) and the Discord-era ones botgo
// still defines (2–8, 11, 13, 14). The catalogue is the domain's because a
// bot's allowed intents are part of the Bot; the QQ door checks identifies
// against it.
var Intents = []Intent{
	{0, "GUILDS"},
	{1, "GUILD_MEMBERS"},
	{2, "GUILD_BANS"},
	{3, "GUILD_EMOJIS"},
	{4, "GUILD_INTEGRATIONS"},
	{5, "GUILD_WEBHOOKS"},
	{6, "GUILD_INVITES"},
	{7, "GUILD_VOICE_STATES"},
	{8, "GUILD_PRESENCES"},
	{9, "GUILD_MESSAGES"},
	{10, "GUILD_MESSAGE_REACTIONS"},
	{11, "GUILD_MESSAGE_TYPING"},
	{12, "DIRECT_MESSAGE"},
	{13, "DIRECT_MESSAGE_REACTIONS"},
	{14, "DIRECT_MESSAGE_TYPING"},
	{18, "OPEN_FORUMS_EVENT"},
	{19, "AUDIO_OR_LIVE_CHANNEL_MEMBER"},
	{23, "ENTER_AIO"},
	{24, "GROUP_MESSAGE"},
	{25, "GROUP_AND_C2C_EVENT"},
	{26, "INTERACTION"},
	{27, "MESSAGE_AUDIT"},
	{28, "FORUMS_EVENT"},
	{29, "AUDIO_ACTION"},
	{30, "PUBLIC_GUILD_MESSAGES"},
}

// Intent masks.
const (
	// KnownIntents has the bit of every entry of Intents.
	KnownIntents int64 = 1<<15 - 1 | 1<<18 | 1<<19 | (1<<31-1)&^(1<<23-1)
	// DefaultIntents are what a bot with Bot.Intents 0 may ask for: GUILDS,
	// GUILD_MEMBERS and PUBLIC_GUILD_MESSAGES, as on the QQ platform, and
	// GROUP_AND_C2C_EVENT, which every group event qun emits needs.
	DefaultIntents int64 = 1<<0 | 1<<1 | 1<<30 | 1<<25
)

// AllowedIntents returns the intents a bot may ask for: its own, or the
// default set when it has none.
func (b Bot) AllowedIntents() int64 {
	if b.Intents == 0 {
		return DefaultIntents
	}
	return b.Intents
}

// Secrets names the credentials ResetSecrets renews. The doors give them
// their own names on the wire (the Admin API's and the console's "which").
type Secrets int

// The credentials of a bot.
const (
	// RobotSecret is the Wildfire robot secret that signs Robot API calls.
	RobotSecret Secrets = 1 << iota
	// AppSecret is the QQ clientSecret; renewing it revokes the bot's access tokens.
	AppSecret
	// BothSecrets is RobotSecret and AppSecret.
	BothSecrets = RobotSecret | AppSecret
)

// BotChange tells the doors what a committed write changed of a bot's
// credentials or intents, so that they forget what they cached of it.
type BotChange struct {
	BotID   string
	Secrets Secrets // the secrets renewed
	Intents bool    // the allowed intents were set
}

// watchers are the functions told of every BotChange.
type watchers struct {
	mu  sync.Mutex
	fns []func(BotChange)
}

// WatchBots registers fn to be told, after the commit and before the
// operation returns, of every reset of a bot's secrets and every change of
// its intents made through this Service. It tells this process only: other
// nodes learn of it when their caches expire. fn runs on the caller's
// goroutine: it must be quick and must not call the Service.
func (s *Service) WatchBots(fn func(BotChange)) {
	s.watch.mu.Lock()
	defer s.watch.mu.Unlock()
	s.watch.fns = append(s.watch.fns, fn)
}

func (s *Service) botChanged(c BotChange) {
	s.watch.mu.Lock()
	fns := s.watch.fns
	s.watch.mu.Unlock()
	for _, fn := range fns {
		fn(c)
	}
}

// ResetSecrets gives a robot a new robot secret, a new appSecret, or both,
// generated as CreateRobot generates them, and returns the bot. The old
// secret stops working at once. A new appSecret also revokes, in the same
// transaction, every access token issued with the old one, as the QQ portal
// invalidates the old secret: a leaked secret is reset to lock its holder
// out, and its tokens would let it in for two more hours.
func (s *Service) ResetSecrets(ctx context.Context, robotID string, which Secrets) (Bot, error) {
	if which == 0 || which&^BothSecrets != 0 {
		return Bot{}, Errorf(EInvalidParam, "say which secret to reset: the robot secret, the appSecret or both")
	}
	if err := checkID("robotId", robotID); err != nil {
		return Bot{}, err
	}
	return s.changeBot(ctx, BotChange{BotID: robotID, Secrets: which}, func(tx Tx, b *Bot) error {
		if which&RobotSecret != 0 {
			b.Secret = RandomString(32)
		}
		if which&AppSecret != 0 {
			b.AppSecret = RandomString(32)
			return tx.RevokeAccessTokens(robotID)
		}
		return nil
	})
}

// SetIntents sets the intents a bot may ask for on the gateway: bits of
// KnownIntents, or 0 for DefaultIntents. It returns the bot. A gateway
// connection keeps the intents it identified with until it reconnects.
func (s *Service) SetIntents(ctx context.Context, robotID string, intents int64) (Bot, error) {
	if intents < 0 || intents&^KnownIntents != 0 {
		return Bot{}, Errorf(EInvalidParam, "intents %d has bits that name no intent", intents)
	}
	if err := checkID("robotId", robotID); err != nil {
		return Bot{}, err
	}
	return s.changeBot(ctx, BotChange{BotID: robotID, Intents: true}, func(_ Tx, b *Bot) error {
		b.Intents = intents
		return nil
	})
}

// changeBot changes the bot c names with fn in one transaction, stores it
// and, once committed, tells the watchers c.
func (s *Service) changeBot(ctx context.Context, c BotChange, fn func(tx Tx, b *Bot) error) (Bot, error) {
	var b Bot
	err := s.update(ctx, func(tx Tx, now time.Time) (err error) {
		if b, err = tx.Bot(c.BotID); err != nil {
			return err
		}
		if err := fn(tx, &b); err != nil {
			return err
		}
		b.UpdatedAt = now
		return tx.PutBot(b)
	})
	if err != nil {
		return Bot{}, err
	}
	s.botChanged(c)
	return b, nil
}
