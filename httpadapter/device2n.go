package httpadapter

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/lintelhq/lintel/device"
)

// The 2N device functions besides the directory and the log, served from
// a *device.Device: /api/system/info (also without credentials, as the
// device answers it), /api/system/status, /api/switch/caps|status|ctrl,
// /api/io/caps|status|ctrl, /api/accesspoint/blocking/ctrl|status,
// /api/accesspoint/grantaccess and /api/config/holidays (GET; PUT with {"dates":[...]}, in a JSON body or a
// blob-json part).

func (s *dir) deviceRoutes(function func(name string, need AccountType, h handlerFunc, verbs ...string)) {
	get := []string{http.MethodGet, http.MethodPost}
	function("system/info", "", s.systemInfo, get...)
	function("system/status", Manager, s.systemStatus, get...)
	function("switch/caps", Manager, s.switchCaps, get...)
	function("switch/status", Manager, s.switchStatus, get...)
	function("switch/ctrl", Admin, s.switchCtrl, get...)
	function("io/caps", Manager, s.ioCaps, get...)
	function("io/status", Manager, s.ioStatus, get...)
	function("io/ctrl", Admin, s.ioCtrl, get...)
	function("accesspoint/grantaccess", Admin, s.grantAccess, get...)
	function("accesspoint/blocking/status", Manager, s.blockingStatus, get...)
	function("accesspoint/blocking/ctrl", Admin, s.blockingCtrl, get...)
	function("config/holidays", Manager, s.holidays, http.MethodGet)
	function("config/holidays", Admin, s.setHolidays, http.MethodPut)
}

// deviceError is the 2N envelope's code and param for an error of package
// device (see its doc), or nil for another error.
func deviceError(err error) *twoNError {
	for _, m := range []struct {
		err   error
		code  Code
		param string
	}{
		{device.ErrInvalidSwitch, CodeInvalidParam, "switch"},
		{device.ErrInvalidAction, CodeInvalidParam, "action"},
		{device.ErrInvalidTimeout, CodeInvalidParam, "timeout"},
		{device.ErrInvalidAccessPoint, CodeInvalidParam, "id"},
		{device.ErrInvalidPort, CodeInvalidParam, "port"},
		{device.ErrInvalidDate, CodeInvalidParam, "blob-json"},
		{device.ErrTooManyDates, CodeDataTooBig, "blob-json"},
		{device.ErrSwitchDisabled, CodeProcessingError, ""},
		{device.ErrSwitchLocked, CodeProcessingError, ""},
		{device.ErrSwitchHeld, CodeProcessingError, ""},
	} {
		if errors.Is(err, m.err) {
			desc := ""
			if m.code == CodeProcessingError {
				desc = "action failed"
			}
			return &twoNError{status: http.StatusOK, code: m.code, param: m.param, desc: desc}
		}
	}
	return nil
}

// ints reads an optional comma-separated list of integers, the filter of
// a status or caps function.
func ints(c *call, name string) ([]int, error) {
	raw := c.scalars.get(name)
	if raw == "" {
		return nil, nil
	}
	var out []int
	for f := range strings.SplitSeq(raw, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || len(out) == maxListParam {
			return nil, invalidParam(name)
		}
		out = append(out, n)
	}
	return out, nil
}

// intParam reads a required integer parameter.
func intParam(c *call, name string) (int, error) {
	raw := c.scalars.get(name)
	if raw == "" {
		return 0, missingParam(name)
	}
	n, err := strconv.Atoi(raw)
	if err != nil {
		return 0, invalidParam(name)
	}
	return n, nil
}

func (s *dir) systemInfo(w http.ResponseWriter, _ *http.Request, _ *call) error {
	return s.ok(w, s.dev.Info())
}

func (s *dir) systemStatus(w http.ResponseWriter, _ *http.Request, _ *call) error {
	return s.ok(w, s.dev.Status())
}

func (s *dir) switchCaps(w http.ResponseWriter, _ *http.Request, c *call) error {
	only, err := ints(c, "switch")
	if err != nil {
		return err
	}
	caps, err := s.dev.SwitchCaps(only...)
	return s.answerWith(w, caps, err)
}

func (s *dir) switchStatus(w http.ResponseWriter, r *http.Request, c *call) error {
	only, err := ints(c, "switch")
	if err != nil {
		return err
	}
	st, err := s.dev.SwitchStatus(r.Context(), only...)
	return s.answerWith(w, st, err)
}

// switchCtrl answers /api/switch/ctrl?switch=N&action=A[&timeout=S].
func (s *dir) switchCtrl(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := intParam(c, "switch")
	if err != nil {
		return err
	}
	action := c.scalars.get("action")
	if action == "" {
		return missingParam("action")
	}
	if t := c.scalars.get("timeout"); t != "" {
		// 0..MaxTimeout here; the device refuses what it does not take (0).
		timeout, ok := seconds(t, 0, device.MaxTimeout)
		if !ok {
			return invalidParam("timeout")
		}
		return s.answerWith(w, nil, s.dev.ControlSwitchTimeout(r.Context(), id, device.SwitchAction(action), timeout))
	}
	return s.answerWith(w, nil, s.dev.ControlSwitch(r.Context(), id, device.SwitchAction(action)))
}

func (s *dir) ioCaps(w http.ResponseWriter, _ *http.Request, c *call) error {
	only, err := ports(c)
	if err != nil {
		return err
	}
	caps, err := s.dev.IOCaps(only...)
	return s.answerWith(w, caps, err)
}

func (s *dir) ioStatus(w http.ResponseWriter, r *http.Request, c *call) error {
	only, err := ports(c)
	if err != nil {
		return err
	}
	st, err := s.dev.IOStatus(r.Context(), only...)
	return s.answerWith(w, st, err)
}

// ioCtrl answers /api/io/ctrl?port=P&action=on|off.
func (s *dir) ioCtrl(w http.ResponseWriter, r *http.Request, c *call) error {
	port := c.scalars.get("port")
	if port == "" {
		return missingParam("port")
	}
	action := c.scalars.get("action")
	if action == "" {
		return missingParam("action")
	}
	return s.answerWith(w, nil, s.dev.ControlPort(r.Context(), port, device.SwitchAction(action)))
}

// grantAccess answers /api/accesspoint/grantaccess?id=N&user=UUID with
// {"accessGranted":true} or {"accessGranted":false,"reason":R}: the
// device's access point and blocking, then the directory's entry of the
// user (directory.Directory.CheckAccess: validity, the access point
// enabled for the user). Without a directory every user is
// invalidCredential.
func (s *dir) grantAccess(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := intParam(c, "id")
	if err != nil {
		return err
	}
	user := c.scalars.get("user")
	if user == "" {
		return missingParam("user")
	}
	g, err := s.dev.GrantAccess(r.Context(), id, user, func(ctx context.Context, user string, ap int, at time.Time) (bool, device.GrantReason, error) {
		if s.d == nil {
			return false, device.GrantInvalidCredential, nil
		}
		ok, reason, err := s.d.CheckAccess(ctx, user, ap, at)
		return ok, device.GrantReason(reason), err // the directory's reasons are spelled as 2N's
	})
	return s.answerWith(w, g, err)
}

func ports(c *call) ([]string, error) {
	raw := c.scalars.get("port")
	if raw == "" {
		return nil, nil
	}
	if strings.Count(raw, ",") >= maxListParam {
		return nil, invalidParam("port")
	}
	return strings.Split(raw, ","), nil
}

func (s *dir) blockingStatus(w http.ResponseWriter, r *http.Request, c *call) error {
	only, err := ints(c, "id")
	if err != nil {
		return err
	}
	st, err := s.dev.AccessPointStatus(r.Context(), only...)
	return s.answerWith(w, st, err)
}

// blockingCtrl answers /api/accesspoint/blocking/ctrl?id=N&action=on|off.
func (s *dir) blockingCtrl(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := intParam(c, "id")
	if err != nil {
		return err
	}
	var blocked bool
	switch c.scalars.get("action") {
	case "on":
		blocked = true
	case "off":
	case "":
		return missingParam("action")
	default:
		return invalidParam("action")
	}
	return s.answerWith(w, nil, s.dev.BlockAccessPoint(r.Context(), id, blocked))
}

func (s *dir) holidays(w http.ResponseWriter, r *http.Request, _ *call) error {
	h, err := s.dev.Holidays(r.Context())
	return s.answerWith(w, h, err)
}

func (s *dir) setHolidays(w http.ResponseWriter, r *http.Request, c *call) error {
	if c.params.Dates == nil {
		return missingParam("dates")
	}
	return s.answerWith(w, nil, s.dev.SetHolidays(r.Context(), *c.params.Dates))
}
