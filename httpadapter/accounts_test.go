package httpadapter_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/lintelhq/lintel/httpadapter"
	"github.com/lintelhq/lintel/store/memory"
)

func TestStoreAccounts(t *testing.T) {
	ctx := context.Background()
	accounts, err := httpadapter.NewStoreAccounts(ctx, memory.New(), "lintel")
	require.NoError(t, err)
	assert.Equal(t, bcrypt.DefaultCost, accounts.Cost())
	accounts, err = httpadapter.NewStoreAccounts(ctx, memory.New(), "lintel", httpadapter.WithBcryptCost(bcrypt.MinCost))
	require.NoError(t, err)
	assert.Equal(t, bcrypt.MinCost, accounts.Cost())
	ok, err := accounts.Exists(ctx)
	require.NoError(t, err)
	assert.False(t, ok)

	require.NoError(t, accounts.Set(ctx, "admin", httpadapter.Admin, "pw"))
	ok, err = accounts.Exists(ctx)
	require.NoError(t, err)
	assert.True(t, ok)
	acct, err := accounts.CheckPassword(ctx, "admin", strings.ToUpper(httpadapter.MD5Hex("pw")))
	require.NoError(t, err)
	assert.Equal(t, httpadapter.Account{Username: "admin", Type: httpadapter.Admin}, acct)
	_, err = accounts.CheckPassword(ctx, "admin", httpadapter.MD5Hex("other"))
	assert.ErrorIs(t, err, httpadapter.ErrBadCredentials)
	_, err = accounts.CheckPassword(ctx, "nobody", httpadapter.MD5Hex("pw"))
	assert.ErrorIs(t, err, httpadapter.ErrBadCredentials)

	ha1, acct, err := accounts.DigestHA1(ctx, "admin", httpadapter.DigestSHA256)
	require.NoError(t, err)
	assert.Equal(t, httpadapter.Admin, acct.Type)
	assert.Equal(t, sha256hex("admin:lintel:pw"), ha1)
	ha1, _, err = accounts.DigestHA1(ctx, "admin", httpadapter.DigestMD5)
	require.NoError(t, err)
	assert.Equal(t, md5hex("admin:lintel:pw"), ha1)
	assert.Equal(t, "lintel", accounts.Realm(), "the realm of the HA1 values, which the challenges name")
	_, _, err = accounts.DigestHA1(ctx, "nobody", httpadapter.DigestMD5)
	assert.ErrorIs(t, err, httpadapter.ErrBadCredentials)

	require.NoError(t, accounts.Set(ctx, "admin", httpadapter.Manager, "new"), "Set replaces")
	acct, err = accounts.CheckPassword(ctx, "admin", httpadapter.MD5Hex("new"))
	require.NoError(t, err)
	assert.Equal(t, httpadapter.Manager, acct.Type)

	for name, a := range map[string]struct {
		user     string
		typ      httpadapter.AccountType
		password string
	}{
		"empty name":   {"", httpadapter.Admin, "pw"},
		"colon":        {"a:b", httpadapter.Admin, "pw"},
		"control":      {"a\nb", httpadapter.Admin, "pw"},
		"long name":    {strings.Repeat("a", 257), httpadapter.Admin, "pw"},
		"no password":  {"a", httpadapter.Admin, ""},
		"unknown type": {"a", "root", "pw"},
	} {
		assert.ErrorIs(t, accounts.Set(ctx, a.user, a.typ, a.password), httpadapter.ErrInvalidAccount, name)
	}
}

func TestNewNeedsAccounts(t *testing.T) {
	assert.PanicsWithValue(t, "httpadapter: Config.Accounts is required", func() { httpadapter.New(httpadapter.Config{}) })
}
