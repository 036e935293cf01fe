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
	if err := example(); err != nil {
		fmt.Println(err)
	}
	// Output:
	// 401 {"error":"Log In"}
	// 200 {"result":[{"link_id":"91c615e3-1040-4815-8ecb-039a18b756b5","success":true,"extended_info":"created","has_dublicates":false}]}
	// 400 {"error":"Wrong JSON body: no value for `list_items[0].name`"}
}

func example() error {
	ctx := context.Background()
	st := memory.New()
	svc, err := access.New(ctx, st)
	if err != nil {
		return err
	}
	accounts, err := httpadapter.NewStoreAccounts(ctx, st, "lintel", httpadapter.WithBcryptCost(bcrypt.MinCost)) // MinCost only to keep the example quick
	if err != nil {
		return err
	}
	if err := accounts.Set(ctx, "admin", httpadapter.Admin, "secret"); err != nil {
		return err
	}

	srv := httptest.NewServer(httpadapter.New(httpadapter.Config{Access: svc, Accounts: accounts}))
	defer srv.Close()
	post := func(path, token, body string) error {
		req, err := http.NewRequest("POST", srv.URL+path, strings.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer res.Body.Close()
		out, err := io.ReadAll(res.Body)
		fmt.Print(res.StatusCode, " ", string(out))
		return err
	}

	// Without a token, the panel answers as the vendor documents.
	if err := post("/api/v1/access/users/link/delete", "", `{"link_ids":["91c615e3-1040-4815-8ecb-039a18b756b5"]}`); err != nil {
		return err
	}

	// Log in with the MD5 of the password, then push a batch.
	res, err := http.Get(srv.URL + "/api/v1/login?username=admin&password=" + httpadapter.MD5Hex("secret"))
	if err != nil {
		return err
	}
	defer res.Body.Close()
	var login struct{ Token string }
	if err := json.NewDecoder(res.Body).Decode(&login); err != nil {
		return err
	}
	if err := post("/api/v1/access/users/link/update", login.Token, `{"list_items":[{"link_id":"91c615e3-1040-4815-8ecb-039a18b756b5","name":"Ada","auth_factors":["card"]}]}`); err != nil {
		return err
	}
	return post("/api/v1/access/users/link/update", login.Token, `{"list_items":[{"link_id":"91c615e3-1040-4815-8ecb-039a18b756b5","auth_factors":["card"]}]}`)
}
