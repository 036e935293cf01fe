package panel

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/lintelhq/lintel/store/memory"
)

// TestDummyHash: a login without a stored hash pays bcrypt at the cost of
// the stored ones.
func TestDummyHash(t *testing.T) {
	cost, err := bcrypt.Cost(dummyHash)
	require.NoError(t, err)
	assert.Equal(t, dummyHashCost, cost)
	assert.Equal(t, bcrypt.DefaultCost, defaultBcryptCost)
	st := memory.New()
	defer st.Close()
	for _, want := range []int{bcrypt.DefaultCost, bcrypt.MinCost, 6} {
		r, err := Open(context.Background(), st, WithBcryptCost(want))
		require.NoError(t, err)
		cost, err := bcrypt.Cost(r.dummy)
		require.NoError(t, err)
		assert.Equal(t, want, cost)
	}
}
