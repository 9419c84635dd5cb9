import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Safeconv

private final class ResultBox: @unchecked Sendable {
    var result: Result<Data, Error> = .failure(URLError(.unknown))
}

/// The Signicat emulator's admin API, at the URL scripts/test-swift.sh passes in
/// SAFECONV_EMULATOR_URL.
struct Emulator: Sendable {
    static let clientId = "safeconv-demo-client"
    static let clientSecret = "safeconv-demo-secret"
    static let accountId = "a-spge-emulator"

    // Valid fødselsnummer (correct check digits); each test sets their behaviour.
    static let ninApprove = "01018010018"
    static let ninDecline = "17029010021"
    static let ninFail = "15058510170"
    static let ninSilent = "24047510003"
    static let ninNoApp = "31129910065"

    let url: String

    static func fromEnvironment() -> Emulator? {
        guard let url = ProcessInfo.processInfo.environment["SAFECONV_EMULATOR_URL"], !url.isEmpty else {
            return nil
        }
        return Emulator(url: url.hasSuffix("/") ? String(url.dropLast()) : url)
    }

    /// A blocking HTTP call (the admin API is local and quick; the token provider must block).
    @discardableResult
    func call(_ method: String, _ path: String, body: Data? = nil,
              contentType: String = "application/json") throws -> Data {
        var request = URLRequest(url: URL(string: url + path)!)
        request.httpMethod = method
        request.httpBody = body
        request.timeoutInterval = 10
        request.setValue(contentType, forHTTPHeaderField: "Content-Type")
        let done = DispatchSemaphore(value: 0)
        let box = ResultBox()
        URLSession.shared.dataTask(with: request) { data, response, error in
            if let error {
                box.result = .failure(error)
            } else if let http = response as? HTTPURLResponse, !(200..<300).contains(http.statusCode) {
                box.result = .failure(URLError(.badServerResponse))
            } else {
                box.result = .success(data ?? Data())
            }
            done.signal()
        }.resume()
        done.wait()
        return try box.result.get()
    }

    func user(_ nin: String, _ behaviour: String, afterMs: Int? = nil, code: String? = nil) throws {
        var fields: [String: Any] = ["behaviour": behaviour]
        if let afterMs { fields["afterMs"] = afterMs }
        if let code { fields["code"] = code }
        try call("PUT", "/emulator/users/\(nin)", body: JSONSerialization.data(withJSONObject: fields))
    }

    func fault(_ endpoint: String, _ kind: String, times: Int = 1, delayMs: Int? = nil) throws {
        var fault: [String: Any] = ["kind": kind]
        if let delayMs { fault["delayMs"] = delayMs }
        let fields: [String: Any] = ["endpoint": endpoint, "fault": fault, "times": times]
        try call("POST", "/emulator/faults", body: JSONSerialization.data(withJSONObject: fields))
    }

    private func json(_ path: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: call("GET", path)) as? [String: Any] ?? [:]
    }

    /// How many session creates the emulator has received.
    func createRequests() throws -> Int {
        (try json("/emulator/counters")["createRequests"] as? NSNumber)?.intValue ?? -1
    }

    /// The session's status as the emulator holds it (e.g. `CANCELLED`).
    func sessionStatus(_ id: String) throws -> String {
        try json("/emulator/sessions/\(id)")["status"] as? String ?? ""
    }

    func clearFaults() throws {
        try call("DELETE", "/emulator/faults")
    }

    func minSessionLifetime(_ seconds: Int) throws {
        try call("PUT", "/emulator/config", body: JSONSerialization.data(withJSONObject: ["minSessionLifetimeSecs": seconds]))
    }

    /// A token from the emulator's token endpoint, as an agent app's backend would fetch it.
    func token() throws -> AccessToken {
        let form = "grant_type=client_credentials&scope=signicat-api&client_id=\(Self.clientId)&client_secret=\(Self.clientSecret)"
        let data = try call("POST", "/auth/open/connect/token", body: Data(form.utf8),
                            contentType: "application/x-www-form-urlencoded")
        let json = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
        let expiresIn = (json["expires_in"] as? NSNumber)?.doubleValue
        return AccessToken(token: json["access_token"] as? String ?? "", expiresIn: expiresIn)
    }

    func config(clientId: String? = Emulator.clientId, clientSecret: String? = Emulator.clientSecret) -> ClientConfig {
        ClientConfig(accountId: Self.accountId, clientId: clientId, clientSecret: clientSecret,
                     baseUrl: url, pollInterval: 0.05)
    }
}
