package phases

// Version is httpdg's version: the -v report, the Server header and the
// error pages' signature.
const Version = "0.1.0"
