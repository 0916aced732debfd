package egress

import (
	"net/netip"
	"os/exec"
	"strings"
	"testing"
)

// TestHostAddr reads hosts the way resolvers do. Where the C library is here, each IPv4 form is
// also handed to its getaddrinfo (through getent), which must agree.
func TestHostAddr(t *testing.T) {
	tests := []struct {
		host    string
		want    string // the address, "" for a name, "invalid" for a numeric host that is none
		numeric bool
	}{
		{"127.0.0.1", "127.0.0.1", true},
		{"127.1", "127.0.0.1", true},
		{"127.0.1", "127.0.0.1", true},
		{"127.000.000.001", "127.0.0.1", true},
		{"0177.0.0.1", "127.0.0.1", true},
		{"0x7f.1", "127.0.0.1", true},
		{"0X7F.0.0.1", "127.0.0.1", true},
		{"0x7f000001", "127.0.0.1", true},
		{"2130706433", "127.0.0.1", true},
		{"017700000001", "127.0.0.1", true},
		{"0", "0.0.0.0", true},
		{"0x", "invalid", true},
		{"10.1", "10.0.0.1", true},
		{"10.0x10203", "10.1.2.3", true},
		{"169.254.43518", "169.254.169.254", true},
		{"0xa9fea9fe", "169.254.169.254", true},
		{"1.0x10000", "1.1.0.0", true},
		{"93.184.216.34", "93.184.216.34", true},
		{"127.0.0.1.", "127.0.0.1", true},
		{"08.0.0.1", "invalid", true},   // 8 is no octal digit
		{"256.0.0.1", "invalid", true},  // a leading part over 255
		{"1.2.3.256", "invalid", true},  // the last of four parts over 255
		{"1.16777216", "invalid", true}, // the last of two parts over 24 bits
		{"4294967296", "invalid", true}, // over 32 bits
		{"1.2.3.4.5", "invalid", true},  // five parts
		{"1..2", "invalid", true},
		{"0xg", "", false}, // not a number: a name (whose dial-time check still applies)
		{"example.com", "", false},
		{"1.2.3.example", "", false},
		{"example.123x", "", false},
		{"::1", "::1", true},
		{"[::1]", "::1", true},
		{"::ffff:127.0.0.1", "::ffff:127.0.0.1", true},
		{"[::ffff:7f00:1]", "::ffff:127.0.0.1", true},
		{"fe80::1%eth0", "fe80::1%eth0", true},
		{"[::1%lo]", "::1%lo", true},
		{"::1::2", "invalid", true},
	}
	getent, _ := exec.LookPath("getent")
	for _, tc := range tests {
		addr, numeric, ok := HostAddr(tc.host)
		got := ""
		switch {
		case numeric && !ok:
			got = "invalid"
		case ok:
			got = addr.String()
		}
		if got != tc.want || numeric != tc.numeric {
			t.Errorf("HostAddr(%q) = %q numeric=%v, want %q numeric=%v", tc.host, got, numeric, tc.want, tc.numeric)
		}
		if getent == "" || !ok || !addr.Is4() {
			continue
		}
		out, err := exec.Command(getent, "ahostsv4", strings.TrimSuffix(tc.host, ".")).Output()
		if f := strings.Fields(string(out)); err != nil || len(f) == 0 || f[0] != tc.want {
			t.Errorf("getaddrinfo(%q) = %q (%v), HostAddr says %s", tc.host, out, err, tc.want)
		}
	}
}

// TestCheckURLAddressForms: an internal address is refused at save time in every form a
// resolver reads as one, and so are ports 0 and beyond 65535.
func TestCheckURLAddressForms(t *testing.T) {
	strict := Policy{}
	refused := []string{
		"https://127.1/", "https://127.000.000.001/", "https://0177.0.0.1/", "https://0x7f.1/",
		"https://2130706433/", "https://0x7f000001/", "https://017700000001/", "https://127.0.0.1./",
		"https://0/", "https://0x/", "https://10.1/", "https://192.168.257/", "https://0xa9fea9fe/",
		"https://169.254.43518/latest/meta-data", "https://0300.0250.0.1/", "https://0xA.0.0.1:8443/",
		"https://[::1]/", "https://[::ffff:127.0.0.1]/", "https://[::ffff:7f00:1]/", "https://[::1%25lo]/",
		"https://[fe80::1%25eth0]/", "https://[0:0:0:0:0:0:0:1]/", "https://[::]/", "https://[64:ff9b::7f00:1]/",
		"https://256.0.0.1/", "https://1.2.3.4.5/", "https://08.0.0.1/",
		"https://example.com:0/", "https://example.com:65536/", "https://example.com:99999/",
		"https://example.com:/", "https://93.184.216.34:0/",
	}
	for _, u := range refused {
		if err := strict.CheckURL(u); err == nil {
			t.Errorf("CheckURL(%q) accepted it", u)
		}
	}
	allowed := []string{"https://93.184.216.34/", "https://1.0x10000/", "https://0x5d.0xb8.0xd8.0x22/",
		"https://example.com:1/", "https://example.com:65535/", "https://example.com:443/", "https://[2606:2800:220:1::]/"}
	for _, u := range allowed {
		if err := strict.CheckURL(u); err != nil {
			t.Errorf("CheckURL(%q) = %v, want it accepted", u, err)
		}
	}
	// Dev mode allows internal addresses, but not what is no address at all.
	dev := Policy{AllowHTTP: true, AllowPrivate: true}
	for _, u := range []string{"http://127.1:8080/", "http://0x7f.1/"} {
		if err := dev.CheckURL(u); err != nil {
			t.Errorf("dev CheckURL(%q) = %v", u, err)
		}
	}
	for _, u := range []string{"http://1.2.3.4.5/", "http://127.0.0.1:0/"} {
		if err := dev.CheckURL(u); err == nil {
			t.Errorf("dev CheckURL(%q) accepted it", u)
		}
	}
	if _, err := netip.ParseAddr("127.1"); err == nil {
		t.Fatal("netip parses 127.1: the forms above would need no parser of their own")
	}
}
