package mpm

import (
	"strings"
)

// statusLines are Apache 2.4's status_lines (http_protocol.c): the status
// line and error page title for each status Apache knows. A status not in
// it is answered as "500 Internal Server Error" (ap_index_of_response).
var statusLines = map[int]string{
	100: "100 Continue",
	101: "101 Switching Protocols",
	102: "102 Processing",
	200: "200 OK",
	201: "201 Created",
	202: "202 Accepted",
	203: "203 Non-Authoritative Information",
	204: "204 No Content",
	205: "205 Reset Content",
	206: "206 Partial Content",
	207: "207 Multi-Status",
	208: "208 Already Reported",
	226: "226 IM Used",
	300: "300 Multiple Choices",
	301: "301 Moved Permanently",
	302: "302 Found",
	303: "303 See Other",
	304: "304 Not Modified",
	305: "305 Use Proxy",
	307: "307 Temporary Redirect",
	308: "308 Permanent Redirect",
	400: "400 Bad Request",
	401: "401 Unauthorized",
	402: "402 Payment Required",
	403: "403 Forbidden",
	404: "404 Not Found",
	405: "405 Method Not Allowed",
	406: "406 Not Acceptable",
	407: "407 Proxy Authentication Required",
	408: "408 Request Timeout",
	409: "409 Conflict",
	410: "410 Gone",
	411: "411 Length Required",
	412: "412 Precondition Failed",
	413: "413 Request Entity Too Large",
	414: "414 Request-URI Too Long",
	415: "415 Unsupported Media Type",
	416: "416 Requested Range Not Satisfiable",
	417: "417 Expectation Failed",
	421: "421 Misdirected Request",
	422: "422 Unprocessable Entity",
	423: "423 Locked",
	424: "424 Failed Dependency",
	426: "426 Upgrade Required",
	428: "428 Precondition Required",
	429: "429 Too Many Requests",
	431: "431 Request Header Fields Too Large",
	451: "451 Unavailable For Legal Reasons",
	500: "500 Internal Server Error",
	501: "501 Not Implemented",
	502: "502 Bad Gateway",
	503: "503 Service Unavailable",
	504: "504 Gateway Timeout",
	505: "505 HTTP Version Not Supported",
	506: "506 Variant Also Negotiates",
	507: "507 Insufficient Storage",
	508: "508 Loop Detected",
	510: "510 Not Extended",
	511: "511 Network Authentication Required",
}

// apacheStatus is the status Apache puts on the wire for status: itself,
// or 500 for one it does not know.
func apacheStatus(status int) int {
	if _, ok := statusLines[status]; ok {
		return status
	}
	return 500
}

// statusLine is the title of status's error page ("404 Not Found").
func statusLine(status int) string {
	return statusLines[apacheStatus(status)]
}

// dropsConnection is ap_status_drops_connection: statuses after which
// Apache closes the connection.
func dropsConnection(status int) bool {
	switch status {
	case 400, 408, 411, 413, 414, 417, 500, 501, 503:
		return true
	}
	return false
}

// doctype is the DOCTYPE_HTML_4_01 of Apache 2.4's error pages.
const doctype = "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n"

// errorInfo is what ap_send_error_response takes from the request.
type errorInfo struct {
	status   int
	method   string // r->method
	admin    string // ServerAdmin; "" is "[no address given]"
	location string // the Location of a redirect
	notes    string // r->notes "error-notes"
	verbose  string // r->notes "verbose-error-to": "*" shows error-notes on a 500
	variants string // r->notes "variant-list"
	expect   string // the Expect request header
	// signature is ServerSignature's "<hr>\n<address>...</address>\n",
	// "" when it is Off (the default).
	signature string
}

// errorPage renders Apache's default error page for status; admin is the
// ServerAdmin the 500 page names.
func errorPage(status int, method, admin string) string {
	return errorPageFor(errorInfo{status: status, method: method, admin: admin})
}

// errorPageNotes is errorPage with the request's "error-notes" (Apache's
// add_optional_notes: 400, 403, 411, 414, 417, 451, 501, 502 show them).
func errorPageNotes(status int, method, admin, notes string) string {
	return errorPageFor(errorInfo{status: status, method: method, admin: admin, notes: notes})
}

// errorPageFor renders the page as ap_send_error_response does: title and
// heading from the status line, get_canned_error_string's text, the
// signature.
func errorPageFor(e errorInfo) string {
	title := statusLine(e.status)
	return doctype + "<html><head>\n<title>" + title + "</title>\n</head><body>\n<h1>" + title[4:] + "</h1>\n" +
		cannedError(e) + e.signature + "</body></html>\n"
}

// escapeHTML is ap_escape_html: &, <, > and " only.
var escapeHTML = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace

// cannedError is get_canned_error_string (Apache 2.4.67).
func cannedError(e errorInfo) string {
	method := escapeHTML(e.method)
	switch e.status {
	case 301, 302, 307, 308:
		return "<p>The document has moved <a href=\"" + escapeHTML(e.location) + "\">here</a>.</p>\n"
	case 303:
		return "<p>The answer to your request is located <a href=\"" + escapeHTML(e.location) + "\">here</a>.</p>\n"
	case 305:
		return "<p>This resource is only accessible through the proxy\n<br />\nYou will need to configure your client to use that proxy.</p>\n"
	case 401, 407:
		return "<p>This server could not verify that you\nare authorized to access the document\nrequested.  Either you supplied the wrong\ncredentials (e.g., bad password), or your\nbrowser doesn't understand how to supply\nthe credentials required.</p>\n"
	case 400:
		return "<p>Your browser sent a request that this server could not understand.<br />\n" + e.notes + "</p>\n"
	case 403:
		return "<p>You don't have permission to access this resource." + e.notes + "</p>\n"
	case 404:
		return "<p>The requested URL was not found on this server.</p>\n"
	case 405:
		return "<p>The requested method " + method + " is not allowed for this URL.</p>\n"
	case 406:
		return "<p>An appropriate representation of the requested resource could not be found on this server.</p>\n" + e.variants
	case 300:
		return e.variants
	case 411:
		return "<p>A request of the requested method " + method + " requires a valid Content-length.<br />\n" + e.notes + "</p>\n"
	case 412:
		return "<p>The precondition on the request for this URL evaluated to false.</p>\n"
	case 501:
		return "<p>" + method + " not supported for current URL.<br />\n" + e.notes + "</p>\n"
	case 502:
		return "<p>The proxy server received an invalid\nresponse from an upstream server.<br />\n" + e.notes + "</p>\n"
	case 506:
		return "<p>A variant for the requested resource\n<pre>\n" + e.variants + "\n</pre>\nis itself a negotiable resource. This indicates a configuration error.</p>\n"
	case 408:
		return "<p>Server timeout waiting for the HTTP request from the client.</p>\n"
	case 410:
		return "<p>The requested resource is no longer available on this server and there is no forwarding address.\nPlease remove all references to this resource.</p>\n"
	case 413:
		return "The requested resource does not allow request data with " + method + " requests, or the amount of data provided in\nthe request exceeds the capacity limit.\n"
	case 414:
		return "<p>The requested URL's length exceeds the capacity\nlimit for this server.<br />\n" + e.notes + "</p>\n"
	case 415:
		return "<p>The supplied request data is not in a format\nacceptable for processing by this resource.</p>\n"
	case 416:
		return "<p>None of the range-specifier values in the Range\nrequest-header field overlap the current extent\nof the selected resource.</p>\n"
	case 417:
		s := "<p>No expectation was seen, the Expect request-header \nfield was not presented by the client.\n"
		if e.expect != "" {
			s = "<p>The expectation given in the Expect request-header\nfield could not be met by this server.\nThe client sent<pre>\n    Expect: " + escapeHTML(e.expect) + "\n</pre>\n"
		}
		return s + e.notes + "</p><p>Only the 100-continue expectation is supported.</p>\n"
	case 421:
		return "<p>The client needs a new connection for this\nrequest as the requested host name does not match\nthe Server Name Indication (SNI) in use for this\nconnection.</p>\n"
	case 422:
		return "<p>The server understands the media type of the\nrequest entity, but was unable to process the\ncontained instructions.</p>\n"
	case 423:
		return "<p>The requested resource is currently locked.\nThe lock must be released or proper identification\ngiven before the method can be applied.</p>\n"
	case 424:
		return "<p>The method could not be performed on the resource\nbecause the requested action depended on another\naction and that other action failed.</p>\n"
	case 426:
		return "<p>The requested resource can only be retrieved\nusing SSL.  The server is willing to upgrade the current\nconnection to SSL, but your client doesn't support it.\nEither upgrade your client, or try requesting the page\nusing https://\n"
	case 428:
		return "<p>The request is required to be conditional.</p>\n"
	case 429:
		return "<p>The user has sent too many requests\nin a given amount of time.</p>\n"
	case 431:
		return "<p>The server refused this request because\nthe request header fields are too large.</p>\n"
	case 451:
		return "<p>Access to this URL has been denied for legal reasons.<br />\n" + e.notes + "</p>\n"
	case 503:
		return "<p>The server is temporarily unable to service your\nrequest due to maintenance downtime or capacity\nproblems. Please try again later.</p>\n"
	case 504:
		return "<p>The gateway did not receive a timely response\nfrom the upstream server or application.</p>\n"
	case 507:
		return "<p>The method could not be performed on the resource\nbecause the server is unable to store the\nrepresentation needed to successfully complete the\nrequest.  There is insufficient free space left in\nyour storage allocation.</p>\n"
	case 508:
		return "<p>The server terminated an operation because\nit encountered an infinite loop.</p>\n"
	case 510:
		return "<p>A mandatory extension policy in the request is not\naccepted by the server for this resource.</p>\n"
	case 511:
		return "<p>The client needs to authenticate to gain\nnetwork access.</p>\n"
	}
	// HTTP_INTERNAL_SERVER_ERROR and every status without a text of its own.
	if e.notes != "" && e.verbose == "*" {
		return e.notes + "<p />\n"
	}
	admin := e.admin
	if admin == "" {
		admin = "[no address given]"
	}
	return "<p>The server encountered an internal error or\nmisconfiguration and was unable to complete\nyour request.</p>\n<p>Please contact the server administrator at \n " +
		escapeHTML(admin) + " to inform them of the time this error occurred,\n and the actions you performed just before this error.</p>\n<p>More information about this error may be available\nin the server error log.</p>\n"
}
