// TEST STUB (llm-transform): minimal stand-in for the ATB header atb/svector.h.
// Only what the layer fixtures and generated layers need to pass `g++ -fsyntax-only`.
#ifndef ATB_STUB_ATB_SVECTOR_H
#define ATB_STUB_ATB_SVECTOR_H

#include <cstddef>
#include <initializer_list>
#include <vector>

namespace atb {
// Small vector; the stub simply wraps std::vector.
template <class T> class SVector {
public:
    SVector() = default;
    SVector(std::initializer_list<T> list) : data_(list) {}
    SVector &operator=(std::initializer_list<T> list) { data_ = list; return *this; }
    std::size_t size() const { return data_.size(); }
    bool empty() const { return data_.empty(); }
    void resize(std::size_t n) { data_.resize(n); }
    void reserve(std::size_t n) { data_.reserve(n); }
    void clear() { data_.clear(); }
    void push_back(const T &v) { data_.push_back(v); }
    T &at(std::size_t i) { return data_.at(i); }
    const T &at(std::size_t i) const { return data_.at(i); }
    T &operator[](std::size_t i) { return data_[i]; }
    const T &operator[](std::size_t i) const { return data_[i]; }
    T *data() { return data_.data(); }
    const T *data() const { return data_.data(); }
    typename std::vector<T>::iterator begin() { return data_.begin(); }
    typename std::vector<T>::iterator end() { return data_.end(); }
    typename std::vector<T>::const_iterator begin() const { return data_.begin(); }
    typename std::vector<T>::const_iterator end() const { return data_.end(); }

private:
    std::vector<T> data_;
};
} // namespace atb
#endif
