package wecomfake

import (
	"net/http"
	"time"
)

// token is an issued access_token.
type token struct {
	expires time.Time
	revoked bool // ExpireTokens was called after it was issued
}

// tokenReply is the answer of gettoken.
type tokenReply struct {
	ErrCode     int    `json:"errcode"`
	ErrMsg      string `json:"errmsg"`
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`
}

// peekToken fills a record from a gettoken call; the corpsecret is never
// recorded.
func peekToken(rec *Request, r *http.Request, _ []byte) {
	rec.Body = summary(map[string]string{"corpid": r.URL.Query().Get("corpid")})
}

// handleToken answers GET /cgi-bin/gettoken?corpid=&corpsecret=. Every call
// issues a new random token; earlier ones stay valid until they expire.
func (f *Fake) handleToken(c *call) (reply, *apiError) {
	q := c.r.URL.Query()
	if err := f.checkSecret(q.Get("corpid"), q.Get("corpsecret")); err != nil {
		return reply{}, err
	}
	tok := randomID(96)
	f.tokens[tok] = &token{expires: f.now().Add(f.ttl)}
	return reply{json: tokenReply{ErrMsg: "ok", AccessToken: tok, ExpiresIn: int(f.ttl / time.Second)}}, nil
}

// checkSecret validates gettoken's parameters in WeCom's order.
func (f *Fake) checkSecret(corpID, secret string) *apiError {
	switch {
	case corpID == "":
		return fail(codeNoCorpID, "corpid missing")
	case corpID != f.corpID:
		return fail(codeBadCorpID, "invalid corpid")
	case secret == "":
		return fail(codeNoSecret, "corpsecret missing")
	case secret != f.secret:
		return fail(codeBadSecret, "invalid credential, corpsecret is invalid")
	}
	return nil
}

// checkToken validates an access_token: 41001 missing, 40014 unknown, 42001
// expired (by TTL or ExpireTokens). f.mu is held.
func (f *Fake) checkToken(tok string) *apiError {
	if tok == "" {
		return fail(codeNoToken, "access_token missing")
	}
	t, ok := f.tokens[tok]
	if !ok {
		return fail(codeBadToken, "invalid access_token")
	}
	if t.revoked || !f.now().Before(t.expires) {
		return fail(codeTokenExpired, "access_token expired")
	}
	return nil
}

// ExpireTokens expires every token issued so far: their next use answers
// 42001, as when WeCom invalidates tokens early.
func (f *Fake) ExpireTokens() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, t := range f.tokens {
		t.revoked = true
	}
}
