package engine

import (
	"fmt"
	"net/url"
	"strings"
)

// An engine address comes from the command line, the environment or a Docker CLI
// context, so it is read the way the most lenient parser on its path would read it:
// its user info is everything before its last "@" after the scheme (a "/", "?" or "#"
// in a password must not hide it), and that user info holds a password when it holds
// a ":", percent-encoded or not (ssh://user%3Apw@host would reach ssh as -l user:pw).

// userinfo returns where the user info of an engine address starts and ends in host,
// and whether it has one.
func userinfo(host string) (start, end int, ok bool) {
	if i := strings.Index(host, "://"); i >= 0 {
		start = i + len("://")
	}
	at := strings.LastIndex(host[start:], "@")
	if at < 0 {
		return 0, 0, false
	}
	return start, start + at, true
}

// passwordStart returns where the password starts in the user info u as written:
// after its first ":" or "%3A" (any case), or -1 when it has none.
func passwordStart(u string) int {
	for i := 0; i < len(u); i++ {
		if u[i] == ':' {
			return i + 1
		}
		if u[i] == '%' && i+2 < len(u) && u[i+1] == '3' && (u[i+2] == 'a' || u[i+2] == 'A') {
			return i + 3
		}
	}
	return -1
}

// password returns the password of an engine address as written, "" if it has none.
func password(host string) string {
	start, end, ok := userinfo(host)
	if !ok {
		return ""
	}
	u := host[start:end]
	if p := passwordStart(u); p >= 0 {
		return u[p:]
	}
	return ""
}

// RedactHost returns an engine address fit to show: the password of its user info,
// if any, replaced by "xxxxx" as url.URL.Redacted does. It also takes forms that are
// no URL ("user:pass@host:port"), since the address comes from the environment.
func RedactHost(host string) string {
	start, end, ok := userinfo(host)
	if !ok {
		return host
	}
	p := passwordStart(host[start:end])
	if p < 0 {
		return host
	}
	return host[:start+p] + "xxxxx" + host[end:]
}

// redact returns text with the engine address host shown as RedactHost shows it and
// its password, in every form a parser on the way may have printed it (as written,
// percent-decoded, percent-encoded again), replaced by "xxxxx". Every message that
// may quote an engine address goes through it.
func redact(host, text string) string {
	if shown := RedactHost(host); shown != host {
		text = strings.ReplaceAll(text, host, shown)
	}
	pw := password(host)
	if pw == "" {
		return text
	}
	forms := []string{pw}
	if dec, err := url.PathUnescape(pw); err == nil {
		forms = append(forms, dec)
		forms = append(forms, strings.TrimPrefix(url.UserPassword("", dec).String(), ":"))
	}
	for _, f := range forms {
		if f != "" {
			text = strings.ReplaceAll(text, f, "xxxxx")
		}
	}
	return text
}

// checkAddress refuses an engine address that holds a password: Docker's client has
// no use for one (tcp:// drops it, http:// and https:// would dial it as part of the
// host name, ssh:// would hand it to ssh as the login), and it would show in errors.
func checkAddress(host string) error {
	if password(host) == "" {
		return nil
	}
	return fmt.Errorf("engine address %q holds a password: matrix refuses it rather than pass it on or show it; "+
		"remove the user info's password (ssh logs in with a key or an agent, a TCP engine uses DOCKER_TLS_VERIFY and DOCKER_CERT_PATH)",
		RedactHost(host))
}
