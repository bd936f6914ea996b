package mpm

import (
	"fmt"
	"html"
	"net/http"
)

// errorMessages are the bodies Apache's default error pages carry
// (http_protocol.c), for the statuses httpdg answers itself.
var errorMessages = map[int]string{
	400: "<p>Your browser sent a request that this server could not understand.<br />\n</p>",
	401: "<p>This server could not verify that you\nare authorized to access the document\nrequested.  Either you supplied the wrong\ncredentials (e.g., bad password), or your\nbrowser doesn't understand how to supply\nthe credentials required.</p>",
	403: "<p>You don't have permission to access this resource.</p>",
	404: "<p>The requested URL was not found on this server.</p>",
	405: "<p>The requested method %s is not allowed for this URL.</p>",
	408: "<p>Server timeout waiting for the HTTP request from the client.</p>",
	413: "The requested resource does not allow request data with %s requests, or the amount of data provided in\nthe request exceeds the capacity limit.",
	414: "<p>The requested URL's length exceeds the capacity\nlimit for this server.<br />\n</p>",
	500: "<p>The server encountered an internal error or\nmisconfiguration and was unable to complete\nyour request.</p>\n<p>Please contact the server administrator at \n %s to inform them of the time this error occurred,\n and the actions you performed just before this error.</p>\n<p>More information about this error may be available\nin the server error log.</p>",
	501: "<p>%s not supported for current URL.<br />\n</p>",
	503: "<p>The server is temporarily unable to service your\nrequest due to maintenance downtime or capacity\nproblems. Please try again later.</p>",
}

// errorPage renders Apache's default error page for status; admin is the
// ServerAdmin the 500 page names.
func errorPage(status int, method, admin string) string {
	title := fmt.Sprintf("%d %s", status, http.StatusText(status))
	msg, ok := errorMessages[status]
	if !ok {
		msg = "<p>" + html.EscapeString(http.StatusText(status)) + "</p>"
	}
	switch status {
	case 405, 413, 501:
		msg = fmt.Sprintf(msg, html.EscapeString(method))
	case 500:
		if admin == "" {
			admin = "[no address given]"
		}
		msg = fmt.Sprintf(msg, html.EscapeString(admin))
	}
	return "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n<title>" + title +
		"</title>\n</head><body>\n<h1>" + http.StatusText(status) + "</h1>\n" + msg + "\n</body></html>\n"
}
