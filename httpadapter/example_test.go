package httpadapter_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"golang.org/x/crypto/bcrypt"

	"github.com/lintelhq/lintel/access"
	"github.com/lintelhq/lintel/httpadapter"
	"github.com/lintelhq/lintel/store/memory"
)

func Example() {
	ctx := context.Background()
	st := memory.New()
	svc, _ := access.New(ctx, st)
	accounts, _ := httpadapter.NewStoreAccounts(ctx, st, "lintel")
	accounts.Cost = bcrypt.MinCost // only to keep the example quick
	_ = accounts.Set(ctx, "admin", httpadapter.Admin, "secret")

	srv := httptest.NewServer(httpadapter.New(httpadapter.Config{Access: svc, Accounts: accounts}))
	defer srv.Close()

	// Without a token, the panel answers as the vendor documents.
	res, _ := http.Post(srv.URL+"/api/v1/access/users/link/delete", "application/json", strings.NewReader(`{"link_ids":[]}`))
	body, _ := io.ReadAll(res.Body)
	fmt.Print(res.StatusCode, " ", string(body))

	res, _ = http.Get(srv.URL + "/api/v1/login?username=admin&password=" + httpadapter.MD5Hex("secret"))
	fmt.Println(res.StatusCode)
	// Output:
	// 401 {"error":"Log In"}
	// 200
}
