package model

import (
	"fmt"
	"net/url"
)

func openRESTStore(trackingURI string, opts ResolveOptions) (store, error) {
	return nil, fmt.Errorf("tracking URI %q: tracking servers are not supported yet", redactURL(trackingURI))
}

// redactURL drops user info (user:password@) from a URL for messages.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	u.User = nil
	return u.String()
}
