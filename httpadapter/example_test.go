package httpadapter_test

import (
	"context"
	"encoding/json"
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
	accounts, _ := httpadapter.NewStoreAccounts(ctx, st, "lintel", httpadapter.WithBcryptCost(bcrypt.MinCost)) // MinCost only to keep the example quick
	_ = accounts.Set(ctx, "admin", httpadapter.Admin, "secret")

	srv := httptest.NewServer(httpadapter.New(httpadapter.Config{Access: svc, Accounts: accounts}))
	defer srv.Close()
	post := func(path, token, body string) {
		req, _ := http.NewRequest("POST", srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		res, _ := http.DefaultClient.Do(req)
		out, _ := io.ReadAll(res.Body)
		fmt.Print(res.StatusCode, " ", string(out))
	}

	// Without a token, the panel answers as the vendor documents.
	post("/api/v1/access/users/link/delete", "", `{"link_ids":["91c615e3-1040-4815-8ecb-039a18b756b5"]}`)

	// Log in with the MD5 of the password, then push a batch.
	res, _ := http.Get(srv.URL + "/api/v1/login?username=admin&password=" + httpadapter.MD5Hex("secret"))
	var login struct{ Token string }
	_ = json.NewDecoder(res.Body).Decode(&login)
	post("/api/v1/access/users/link/update", login.Token, `{"list_items":[{"link_id":"91c615e3-1040-4815-8ecb-039a18b756b5","name":"Ada","auth_factors":["card"]}]}`)
	post("/api/v1/access/users/link/update", login.Token, `{"list_items":[{"link_id":"91c615e3-1040-4815-8ecb-039a18b756b5","auth_factors":["card"]}]}`)
	// Output:
	// 401 {"error":"Log In"}
	// 200 {"result":[{"link_id":"91c615e3-1040-4815-8ecb-039a18b756b5","success":true,"extended_info":"created","has_dublicates":false}]}
	// 400 {"error":"Wrong JSON body: no value for `list_items[0].name`"}
}
