package device

import (
	"context"
	"fmt"

	"github.com/lintelhq/lintel/store"
)

// PortType is the type of an I/O port, as /api/io/caps spells it.
type PortType string

// The port types.
const (
	PortInput  PortType = "input"
	PortOutput PortType = "output"
)

// The ports of a device, as 2N names them.
const (
	PortInput1 = "input1"
	PortInput2 = "input2"
	PortRelay1 = "relay1"
	PortRelay2 = "relay2"
)

// PortCap is one port of /api/io/caps.
type PortCap struct {
	Port string   `json:"port"`
	Type PortType `json:"type"`
}

// IOCaps is the result of /api/io/caps.
type IOCaps struct {
	Ports []PortCap `json:"ports"`
}

// PortState is one port of /api/io/status: 1 when active, else 0.
type PortState struct {
	Port  string `json:"port"`
	State int    `json:"state"`
}

// IOStatus is the result of /api/io/status.
type IOStatus struct {
	Ports []PortState `json:"ports"`
}

// port is one port: an input (follows nothing, reads 0) or a relay that
// follows a switch.
type port struct {
	name   string
	typ    PortType
	follow int // the switch a relay follows, 0 for none
}

// ports lists the device's ports: two inputs, and a relay per switch for
// the first two switches.
func (d *Device) ports() []port {
	ps := []port{{PortInput1, PortInput, 0}, {PortInput2, PortInput, 0}, {PortRelay1, PortOutput, 1}}
	if len(d.switches) >= 2 {
		ps = append(ps, port{PortRelay2, PortOutput, 2})
	}
	return ps
}

// selectPorts returns the ports only names, in that order, or every port.
func (d *Device) selectPorts(only []string) ([]port, error) {
	all := d.ports()
	if len(only) == 0 {
		return all, nil
	}
	out := make([]port, 0, len(only))
next:
	for _, name := range only {
		for _, p := range all {
			if p.name == name {
				out = append(out, p)
				continue next
			}
		}
		return nil, fmt.Errorf("%w: %q", ErrInvalidPort, name)
	}
	return out, nil
}

// IOCaps returns the ports only names, or every port; a name that is not a
// port is ErrInvalidPort.
func (d *Device) IOCaps(only ...string) (IOCaps, error) {
	ps, err := d.selectPorts(only)
	if err != nil {
		return IOCaps{}, err
	}
	out := IOCaps{Ports: make([]PortCap, len(ps))}
	for i, p := range ps {
		out.Ports[i] = PortCap{Port: p.name, Type: p.typ}
	}
	return out, nil
}

// IOStatus returns the state, now, of the ports only names, or of every
// port; a name that is not a port is ErrInvalidPort. A relay is 1 while
// its switch is active.
func (d *Device) IOStatus(ctx context.Context, only ...string) (IOStatus, error) {
	ps, err := d.selectPorts(only)
	if err != nil {
		return IOStatus{}, err
	}
	out := IOStatus{Ports: make([]PortState, len(ps))}
	err = d.st.View(ctx, func(tx store.Tx) error {
		var recs [MaxSwitches]switchRec
		if err := d.loadSwitches(tx, &recs); err != nil {
			return err
		}
		now := d.now().UnixNano()
		for i, p := range ps {
			out.Ports[i] = PortState{Port: p.name}
			if p.follow > 0 && recs[p.follow-1].activeAt(now, !d.switches[p.follow-1].Disabled) {
				out.Ports[i].State = 1
			}
		}
		return nil
	})
	if err != nil {
		return IOStatus{}, err
	}
	return out, nil
}

// ControlPort sets an output port, as /api/io/ctrl?port=P&action=on|off
// does: a relay follows its switch, so on and off are the switch's on and
// off (with its locks and holds). An input, or a name that is not a port,
// is ErrInvalidPort; an action other than on or off is ErrInvalidAction.
func (d *Device) ControlPort(ctx context.Context, name string, action SwitchAction) error {
	ps, err := d.selectPorts([]string{name})
	if err != nil {
		return err
	}
	if ps[0].follow == 0 {
		return fmt.Errorf("%w: %q is an input", ErrInvalidPort, name)
	}
	if action != ActionOn && action != ActionOff {
		return fmt.Errorf("%w: %q (a port takes on or off)", ErrInvalidAction, action)
	}
	return d.ControlSwitch(ctx, ps[0].follow, action)
}
