// One error type for every layer. Nothing is thrown across layers: functions return Result<T>.
#pragma once
#include <string>
#include <utility>
#include <variant>

namespace tracklight {

enum class ErrorCode {
  IoError,        // a file or socket operation failed (op + errno text in detail)
  NotFound,       // a file or record does not exist
  NoSpace,        // disk full or quota
  ReadOnly,       // read-only file system or no permission
  ConfigInvalid,  // a config file or field does not parse
  CryptoFailed,   // sealing/unsealing or key derivation failed
  EntropyFailed,  // the kernel did not give random bytes
  BadInput,       // caller supplied malformed data
  Conflict,       // the change no longer fits the current state (removed meanwhile, limit reached)
  // Outbound HTTPS, one per failure a person must tell apart.
  DnsFailed,
  ConnectRefused,
  ConnectFailed,
  Timeout,            // op says which phase ran out of time
  ProxyFailed,
  ProxyAuthRequired,  // 407 from the proxy
  TlsHandshake,
  TlsVersion,         // the server offers nothing newer than TLS 1.1
  TlsNothingInCommon, // no group, cipher suite, signature or key type both sides accept
  CertUntrusted,        // issued by a CA that is not trusted
  CertSelfSigned,       // the server's certificate is its own issuer
  CertChainIncomplete,  // the server sent its certificate without the intermediate(s) to a CA
  CertMalformed,        // the server's certificate does not parse (a damaged or non-standard field)
  CertExpired,
  CertNotYetValid,
  HostnameMismatch,
  BadResponse,
  ResponseTooLarge,
};

struct Error {
  ErrorCode code = ErrorCode::IoError;
  std::string op;      // the failing operation: "rename", "fsync", "line 12"...
  long backend_code = 0;
  std::string detail;  // one line, for a person; never holds a secret
  std::string message() const { return op.empty() ? detail : op + ": " + detail; }
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Error e) : v_(std::move(e)) {}
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

struct Unit {};
using Status = Result<Unit>;
inline Status ok_status() { return Unit{}; }

}  // namespace tracklight
