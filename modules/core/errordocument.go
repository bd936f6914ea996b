package core

import (
	"io"
	"net/http"
	"strings"

	"github.com/httpdg/httpdg/phases"
)

// customResponse is core's custom_response: the ErrorDocument in effect
// for the error status, as Apache's ap_die serves it. A URL redirects
// (302; never for 401), a local path is served by an internal redirect with
// the error's status, anything else is sent as the page's text.
func customResponse(r *phases.Request) (phases.Status, error) {
	if r.Prev != nil {
		return phases.DECLINED, nil // an error while serving an ErrorDocument
	}
	doc := ""
	for ds := range phases.EachDirConf[DirSettings](r, ModuleName) {
		if d, ok := ds.ErrorDocuments[r.Status]; ok {
			doc = d
		}
	}
	switch {
	case doc == "" || strings.EqualFold(doc, "default"):
		return phases.DECLINED, nil
	case strings.Contains(doc, "://"):
		if r.Status == http.StatusUnauthorized {
			return phases.DECLINED, nil
		}
		r.HeadersOut.Set("Location", doc)
		return http.StatusFound, nil
	case strings.HasPrefix(doc, "/"):
		nr, st := phases.InternalRedirect(r, doc)
		if st != phases.OK && st != phases.DONE {
			// Apache adds "Additionally, a ... error was encountered" to the
			// default page; ours is the default page.
			if r.Log() != nil {
				r.Log().Info("core", "ErrorDocument %s for %d: %v", doc, r.Status, st)
			}
			if o, ok := r.Output.(interface{ SetRequest(*phases.Request) }); ok {
				o.SetRequest(r)
			}
			return phases.DECLINED, nil
		}
		_ = nr
		return phases.OK, nil
	default:
		r.ContentType = "text/html; charset=iso-8859-1"
		r.Output.WriteHeader(r.Status)
		if r.Method != http.MethodHead {
			_, _ = io.WriteString(r.Output, doc)
		}
		return phases.OK, nil
	}
}
