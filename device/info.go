package device

import (
	"errors"
	"fmt"
	"slices"
)

// FirmwarePackage is 2N's name for a family of firmware (the
// firmwarePackage of /api/system/info); clients such as 2N's own test
// suite choose the directory template by it.
type FirmwarePackage string

// The firmware packages 2N clients know, spelled as 2N spells them. Models
// that share a package: vario (also Safety, Force), verso (also Solo,
// Verso 2.0), accessunit (Access Unit, 2.0, M).
const (
	PackageVario      FirmwarePackage = "vario"
	PackageStyle      FirmwarePackage = "style"
	PackageBase       FirmwarePackage = "base"
	PackageUni        FirmwarePackage = "uni"
	PackageVerso      FirmwarePackage = "verso"
	PackageAccessUnit FirmwarePackage = "accessunit"
	PackageIPOne      FirmwarePackage = "ipone"
	PackageVideoKit   FirmwarePackage = "videokit"
	PackageAudioKit   FirmwarePackage = "audiokit"
)

// FirmwarePackages returns every FirmwarePackage Validate accepts, in a
// new slice.
func FirmwarePackages() []FirmwarePackage {
	return []FirmwarePackage{PackageVario, PackageStyle, PackageBase, PackageUni, PackageVerso,
		PackageAccessUnit, PackageIPOne, PackageVideoKit, PackageAudioKit}
}

// Info is what a device says it is: the result of /api/system/info, with
// 2N's keys. DevType, VariantID and CustomerID are left out of the JSON
// when not set.
type Info struct {
	Variant         string          `json:"variant"`              // model name, "2N IP Verso"
	SerialNumber    string          `json:"serialNumber"`         // "00-0000-0005"
	HwVersion       string          `json:"hwVersion"`            // "570v1"
	SwVersion       string          `json:"swVersion"`            // "2.46.0.0.0"
	BuildType       string          `json:"buildType"`            // "release", "beta", "alpha", "dev"
	DeviceName      string          `json:"deviceName"`           // the name set by the installer
	DevType         string          `json:"devType,omitempty"`    // internal identifier, "2-14-0-0"
	VariantID       *int            `json:"variantId,omitempty"`  // internal numeric product id
	CustomerID      *int            `json:"customerId,omitempty"` // internal numeric id
	MacAddr         string          `json:"macAddr"`              // "FC-1E-B3-00-00-05"
	FirmwarePackage FirmwarePackage `json:"firmwarePackage"`      // see FirmwarePackages
}

// DefaultInfo is the Info of a device in software: a Verso-class device
// (the directory's default model) that says plainly what it is. Values
// follow the forms of 2N's documented example (serial NN-NNNN-NNNN, hwVersion
// NNNvN, a five-part swVersion, a MAC address in upper-case hex with
// dashes); the MAC address is a locally administered one, so that it
// cannot be any real device's.
func DefaultInfo() Info {
	return Info{
		Variant:         "Lintel Virtual Intercom",
		SerialNumber:    "00-0000-0000",
		HwVersion:       "570v1",
		SwVersion:       "2.46.0.0.0",
		BuildType:       "release",
		DeviceName:      "Lintel",
		MacAddr:         "02-00-00-00-00-01",
		FirmwarePackage: PackageVerso,
	}
}

func (i Info) clone() Info {
	if i.VariantID != nil {
		v := *i.VariantID
		i.VariantID = &v
	}
	if i.CustomerID != nil {
		v := *i.CustomerID
		i.CustomerID = &v
	}
	return i
}

// Validate checks what clients rely on: the keys py2n reads (deviceName,
// variant, serialNumber, macAddr, swVersion, buildType, hwVersion) are not
// empty, macAddr has the form XX-XX-XX-XX-XX-XX (hex, as 2N prints it),
// and firmwarePackage is one of FirmwarePackages. It returns every problem,
// each wrapping ErrInvalidInfo.
func (i Info) Validate() error {
	var errs []error
	for _, f := range []struct{ name, value string }{
		{"deviceName", i.DeviceName}, {"variant", i.Variant}, {"serialNumber", i.SerialNumber},
		{"macAddr", i.MacAddr}, {"swVersion", i.SwVersion}, {"buildType", i.BuildType}, {"hwVersion", i.HwVersion},
	} {
		if f.value == "" {
			errs = append(errs, fmt.Errorf("%w: %s is empty", ErrInvalidInfo, f.name))
		}
	}
	if i.MacAddr != "" && !isMAC(i.MacAddr) {
		errs = append(errs, fmt.Errorf("%w: macAddr %q is not XX-XX-XX-XX-XX-XX", ErrInvalidInfo, i.MacAddr))
	}
	if !slices.Contains(FirmwarePackages(), i.FirmwarePackage) {
		errs = append(errs, fmt.Errorf("%w: firmwarePackage %q is not one of %v", ErrInvalidInfo, i.FirmwarePackage, FirmwarePackages()))
	}
	return errors.Join(errs...)
}

// isMAC reports whether s is six hex pairs joined by dashes.
func isMAC(s string) bool {
	if len(s) != 17 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if i%3 == 2 {
			if c != '-' {
				return false
			}
			continue
		}
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
