package httpadapter

import (
	"slices"
	"sync"
	"time"
)

// maxSessionsPerUser bounds the live tokens of one account. A client that
// logs in before every call (the Camdroid family's public client does)
// would otherwise keep a token per call for the token's whole life.
const maxSessionsPerUser = 64

// sessions are the panel API's tokens, in this process's memory. Tokens
// expire in the order they were issued (one TTL for all), so expiring costs
// O(1) per token, not a scan; an account's oldest token is dropped when it
// would have more than maxSessionsPerUser.
type sessions struct {
	mu     sync.Mutex
	ttl    time.Duration
	tokens map[string]session
	issued []issuedToken       // oldest first
	byUser map[string][]string // each account's live tokens, oldest first
}

type session struct {
	account Account
	expires time.Time
}

type issuedToken struct {
	token, user string
	expires     time.Time
}

func newSessions(ttl time.Duration) *sessions {
	return &sessions{ttl: ttl, tokens: map[string]session{}, byUser: map[string][]string{}}
}

// add keeps token for acct from now on, for the TTL.
func (s *sessions) add(token string, acct Account, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire(now)
	user := acct.Username
	mine := s.byUser[user]
	if len(mine) >= maxSessionsPerUser {
		delete(s.tokens, mine[0])
		mine = mine[1:]
	}
	expires := now.Add(s.ttl)
	s.byUser[user] = append(mine, token)
	s.tokens[token] = session{account: acct, expires: expires}
	s.issued = append(s.issued, issuedToken{token, user, expires})
}

// get returns token's account, if the token is live at now.
func (s *sessions) get(token string, now time.Time) (Account, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.tokens[token]
	if !ok || now.After(ss.expires) {
		return Account{}, false
	}
	return ss.account, true
}

// remove ends token (a logout).
func (s *sessions) remove(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.tokens[token]
	if !ok {
		return
	}
	delete(s.tokens, token)
	user := ss.account.Username
	if mine := slices.DeleteFunc(s.byUser[user], func(t string) bool { return t == token }); len(mine) > 0 {
		s.byUser[user] = mine
	} else {
		delete(s.byUser, user)
	}
}

// expire forgets the tokens expired at now, oldest first; s.mu is held.
func (s *sessions) expire(now time.Time) {
	for len(s.issued) > 0 && now.After(s.issued[0].expires) {
		it := s.issued[0]
		s.issued[0] = issuedToken{}
		s.issued = s.issued[1:]
		if ss, ok := s.tokens[it.token]; ok && ss.expires.Equal(it.expires) {
			delete(s.tokens, it.token)
		}
		if mine := s.byUser[it.user]; len(mine) > 0 && mine[0] == it.token {
			if len(mine) == 1 {
				delete(s.byUser, it.user)
			} else {
				s.byUser[it.user] = mine[1:]
			}
		}
	}
}

// len is how many tokens are kept.
func (s *sessions) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.tokens)
}
