// An optional value kept on the heap: 8 bytes in its owner where std::optional<T> holds a
// whole T. For members that nearly every record leaves empty (ir::Match's owner, cgroup, ICMP
// and length conditions: a 100,000-class policy carries 100,000 of each, unused).
#pragma once

#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

namespace acctc {

template <typename T>
class Boxed {
  public:
    Boxed() = default;
    Boxed(std::nullopt_t) {}
    Boxed(T value) : value_(std::make_unique<T>(std::move(value))) {}
    Boxed(std::optional<T> value) {
        if (value) {
            value_ = std::make_unique<T>(std::move(*value));
        }
    }
    Boxed(const Boxed& other) : value_(other ? std::make_unique<T>(*other) : nullptr) {}
    Boxed(Boxed&&) noexcept = default;
    Boxed& operator=(const Boxed& other) {
        if (this != &other) {
            value_ = other ? std::make_unique<T>(*other) : nullptr;
        }
        return *this;
    }
    Boxed& operator=(Boxed&&) noexcept = default;

    bool has_value() const { return value_ != nullptr; }
    explicit operator bool() const { return has_value(); }
    T& operator*() { return *value_; }
    const T& operator*() const { return *value_; }
    T* operator->() { return value_.get(); }
    const T* operator->() const { return value_.get(); }
    void reset() { value_.reset(); }

    friend bool operator==(const Boxed& a, const Boxed& b) {
        return a && b ? *a == *b : a.has_value() == b.has_value();
    }
    // As std::optional: equal to a value when it holds one equal to it.
    template <typename U>
    requires(!std::is_same_v<std::remove_cvref_t<U>, Boxed>) friend bool operator==(const Boxed& a,
                                                                                    const U& b) {
        return a && *a == b;
    }

  private:
    std::unique_ptr<T> value_;
};

} // namespace acctc
