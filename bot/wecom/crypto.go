// Package wecom is gridbot's WeCom adapter and the only importer of the
// WeCom SDK (silenceper/wechat/v2): callback crypto, typed inbound
// messages, and the API client with its access-token cache. No SDK type
// leaves this package.
package wecom

import (
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"sort"
	"strings"

	"gridbot/bot"

	"github.com/silenceper/wechat/v2/util"
)

// Crypto signs, encrypts and decrypts callback payloads of one app
// (WeCom's WXBizMsgCrypt scheme: SHA-1 signature, AES-256-CBC, PKCS#7 to 32).
type Crypto struct {
	token  string
	key    []byte // the 32-byte AES key, decoded once from EncodingAESKey
	corpID string
}

// NewCrypto checks the key material and returns a Crypto.
func NewCrypto(token, encodingAESKey, corpID string) (*Crypto, error) {
	if token == "" {
		return nil, bot.Errorf(bot.EINVALID, "wecom token is empty")
	}
	if len(encodingAESKey) != 43 {
		return nil, bot.Errorf(bot.EINVALID, "wecom aes_key must be 43 characters, got %d", len(encodingAESKey))
	}
	key, err := base64.StdEncoding.DecodeString(encodingAESKey + "=")
	if err != nil || len(key) != 32 {
		return nil, bot.Errorf(bot.EINVALID, "wecom aes_key is not valid base64 of 32 bytes")
	}
	if corpID == "" {
		return nil, bot.Errorf(bot.EINVALID, "wecom corp_id is empty")
	}
	return &Crypto{token: token, key: key, corpID: corpID}, nil
}

// CorpID is the receive id every ciphertext must end with.
func (c *Crypto) CorpID() string { return c.corpID }

// Signature is SHA1(sort(token, timestamp, nonce, data)) in lowercase hex.
func (c *Crypto) Signature(timestamp, nonce, data string) string {
	parts := []string{c.token, timestamp, nonce, data}
	sort.Strings(parts)
	sum := sha1.Sum([]byte(strings.Join(parts, "")))
	return hex.EncodeToString(sum[:])
}

// CheckSignature compares the expected signature in constant time.
func (c *Crypto) CheckSignature(signature, timestamp, nonce, data string) error {
	want := c.Signature(timestamp, nonce, data)
	if subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(signature))) != 1 {
		return bot.Errorf(bot.EUNAUTHORIZED, "bad signature")
	}
	return nil
}

// Decrypt opens a base64 ciphertext and checks that its receive id is the
// CorpID. It never panics on any input. Bad base64, length, padding or
// length prefix is EINVALID; another receive id is EUNAUTHORIZED.
//
// Decrypt does not authenticate: AES-CBC has no integrity, and a flipped
// ciphertext byte can decrypt to altered plaintext. Check the signature
// first, as Receiver.Open and VerifyURL do.
func (c *Crypto) Decrypt(ciphertext string) ([]byte, error) {
	raw, err := base64.StdEncoding.DecodeString(ciphertext)
	if err != nil {
		return nil, bot.Errorf(bot.EINVALID, "ciphertext is not base64")
	}
	// At least two AES blocks (random + length need 20 bytes), whole blocks.
	if len(raw) < 32 || len(raw)%16 != 0 {
		return nil, bot.Errorf(bot.EINVALID, "ciphertext length %d is not a whole number of blocks", len(raw))
	}
	plain, receiver, err := decryptSafe(raw, c.key)
	if err != nil {
		return nil, bot.Errorf(bot.EINVALID, "cannot decrypt: bad padding or length")
	}
	if subtle.ConstantTimeCompare(receiver, []byte(c.corpID)) != 1 {
		return nil, bot.Errorf(bot.EUNAUTHORIZED, "ciphertext is for another corp")
	}
	return plain, nil
}

// decryptSafe runs the SDK's AES-CBC open and turns any panic into an error.
func decryptSafe(raw, key []byte) (plain, receiver []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = bot.Errorf(bot.EINVALID, "cannot decrypt")
		}
	}()
	_, plain, receiver, err = util.AESDecryptMsg(raw, key)
	return plain, receiver, err
}

// Encrypt seals plain for this corp with a fresh random prefix (random may
// be nil) and returns the base64 ciphertext.
func (c *Crypto) Encrypt(random, plain []byte) (string, error) {
	if random == nil {
		random = make([]byte, 16)
		if _, err := rand.Read(random); err != nil {
			return "", err
		}
	}
	if len(random) != 16 {
		return "", bot.Errorf(bot.EINVALID, "random prefix must be 16 bytes")
	}
	return base64.StdEncoding.EncodeToString(util.AESEncryptMsg(random, plain, c.corpID, c.key)), nil
}

// VerifyURL answers WeCom's GET verification: it checks the signature over
// echostr and returns the decrypted echostr, to be written back exactly.
func (c *Crypto) VerifyURL(signature, timestamp, nonce, echostr string) ([]byte, error) {
	if err := c.CheckSignature(signature, timestamp, nonce, echostr); err != nil {
		return nil, err
	}
	return c.Decrypt(echostr)
}
